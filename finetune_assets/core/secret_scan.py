"""A second opinion on written training text: finds secret-like strings the redactor may have missed.

Deliberately not the redactor's rule set: known token shapes written differently, any assignment to
a credential-like key whose value looks like a credential, and an entropy test on long tokens, so a
gap in one is caught by the other. Reports where and what kind, never the value.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

TOKEN_SHAPES = {
    "aws_key_id": r"A[KS]IA[0-9A-Z]{16}",
    "github": r"gh[pousr]_[0-9A-Za-z]{20,}|github_pat_[0-9A-Za-z_]{20,}",
    "gitlab": r"glpat-[0-9A-Za-z_-]{10,}",
    "slack": r"xox[a-z]-[0-9A-Za-z-]{8,}",
    "openai": r"sk-[A-Za-z0-9_-]{16,}",
    "jwt": r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}",
    "private_key": r"-----BEGIN[ A-Z0-9]*PRIVATE KEY",
    "url_password": r"://[^\s/@:]*:[^\s/@\[][^\s/@]*@",
}
ASSIGNMENT = re.compile(
    r"""(?i)(?<![a-z])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|credentials?)"""
    r"""[a-z0-9_]{0,20}["']?\s*[:=]\s*["']?(?P<value>[^\s"',;\[]{6,})"""
)
SHAPES = re.compile("|".join(f"(?P<{kind}>{shape})" for kind, shape in TOKEN_SHAPES.items()))
# Credentials run from 30 to a few hundred characters; a longer run is data (an encoded blob).
LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{30,1024}(?![A-Za-z0-9+/=_-])")
MIXED_CLASSES = re.compile(r"(?=[^A-Z]*[A-Z])(?=[^a-z]*[a-z])(?=[^0-9]*[0-9])")
WORD = re.compile(r"[A-Z]?[a-z]{3,}")
ENTROPY_BITS = 4.3  # random base64 of 30+ characters scores ~4.5 and up; hex ids stay below
# Rows worth a closer look, found by RE2 a column at a time, and for each the part of the scan it
# needs: a known shape, a credential-like key being assigned, or a run of token characters with an
# upper-case letter and a digit (hashes and UUIDs in lower case, CamelCase alert names, are not).
_TOKEN = "[A-Za-z0-9+/=_-]"
PREFILTERS = {
    "shapes": "|".join(f"(?:{shape})" for shape in TOKEN_SHAPES.values()),
    "assignments": r"(?i)(?:pass|pwd|secret|token|api.?key|access.?key|credential)[a-z0-9_]{0,20}[\"']?\s*[:=]",
    "tokens": f"{_TOKEN}*[A-Z]{_TOKEN}*[0-9]{_TOKEN}*|{_TOKEN}*[0-9]{_TOKEN}*[A-Z]{_TOKEN}*",
}
CANDIDATE = "|".join(f"(?:{pattern})" for pattern in PREFILTERS.values())
EXAMPLES = 10


@dataclass
class ScanReport:
    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "line 12: jwt", never the value

    @property
    def found(self) -> int:
        return sum(self.counts.values())

    def add(self, line: int, kind: str) -> None:
        self.counts[kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"line {line}: {kind}")


def shannon_bits(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(token: str) -> bool:
    """Mixed case and digits, high entropy, and not mostly words (CamelCaseAlertNames2 are words)."""
    if not MIXED_CLASSES.match(token):
        return False
    in_words = sum(map(len, WORD.findall(token)))
    return in_words * 2 < len(token) and shannon_bits(token) >= ENTROPY_BITS


def looks_like_credential(value: str) -> bool:
    """A value with letters and digits (or symbols): "hunter2!" is one, "true" and "4096" are not."""
    has_letter = any(c.isalpha() for c in value)
    return has_letter and any(not c.isalpha() for c in value) and not value.startswith("[REDACTED")


def text_findings(text: str, shapes: bool = True, assignments: bool = True, tokens: bool = True) -> list[str]:
    """Kinds of secret-like strings in ``text``; the flags skip the parts a prefilter ruled out."""
    kinds = list(dict.fromkeys(match.lastgroup for match in SHAPES.finditer(text))) if shapes else []
    if assignments:
        kinds += [
            "credential_assignment" for match in ASSIGNMENT.finditer(text) if looks_like_credential(match["value"])
        ]
    if tokens:
        kinds += ["high_entropy" for token in LONG_TOKEN.findall(text) if looks_random(token)]
    return kinds


def scan_column(column: pa.Array, first_line: int, report: ScanReport) -> None:
    """Scans one text column of a batch whose first row is line ``first_line`` of the file."""
    indices = pc.indices_nonzero(pc.match_substring_regex(column, pattern=CANDIDATE).fill_null(False))
    if not len(indices):
        return
    rows = column.take(indices)
    needs = [pc.match_substring_regex(rows, pattern=p).to_numpy(zero_copy_only=False) for p in PREFILTERS.values()]
    for index, text, *flags in zip(indices.to_pylist(), rows.to_pylist(), *needs, strict=True):
        for kind in text_findings(text, *flags):
            report.add(first_line + index, kind)
