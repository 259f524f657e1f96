"""A second opinion on written training text: finds secret-like strings the redactor may have missed.

Deliberately not the redactor's rule set, nor its engine: token shapes written differently (Python's
``re``), any assignment to a credential-like key (in English, Chinese, Japanese or Korean, on a
command line or in a Kubernetes Secret) whose value looks like a credential, password hashes, and an
entropy test on long tokens, so a gap in one is caught by the other. A placeholder the redactor wrote
is never a finding. Reports where (line, evidence id) and what kind, never the value.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .slices import on_slices

TOKEN_SHAPES = {
    "aws_key_id": r"A[KS]IA[0-9A-Z]{16}",
    "github": r"gh[pousr]_[0-9A-Za-z]{20,}|github_pat_[0-9A-Za-z_]{20,}",
    "gitlab": r"gl(?:pat|dt|rt|ptt|ft|cbt)-[0-9A-Za-z_-]{10,}",
    "slack": r"xox[a-z]-[0-9A-Za-z-]{8,}",
    "openai": r"sk-[A-Za-z0-9_-]{16,}",
    "stripe": r"[rs]k_(?:live|test)_[0-9A-Za-z]{10,}",
    "sendgrid": r"SG\.[\w-]{16,}\.[\w-]{16,}",
    "google": r"AIza[\w-]{30,}",
    "twilio": r"\b(?:AC|SK)[0-9a-f]{32}\b",
    "npm": r"npm_[0-9A-Za-z]{30,}",
    "pypi": r"pypi-[\w-]{40,}",
    "vault": r"\bhv[sbr]\.[\w-]{20,}",
    "huggingface": r"\bhf_[0-9A-Za-z]{25,}",
    "azure_key": r"AccountKey=[\w+/=]{30,}",
    "azure_sas": r"[?&]sig=[\w%+/=]{16,}",
    "discord": r"\b[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27}\b",
    "jwt": r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}",
    "private_key": r"-----BEGIN[ A-Z0-9]*PRIVATE KEY",
    "password_hash": r"\$(?:2[abxy]?\$\d\d|1|5|6|apr1|y|argon2(?:id|i|d)|pbkdf2[\w-]*)\$[./\w+$,=-]{16,}"
    r"|\{S?SHA\}[\w+/]{20,}",
    "url_password": r"://[^\s/@:]*:(?!REDACTED)[^\s/@]+@",
}
# A credential-like key, then its value: English, CJK, an option on a command line.
_KEY = r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|credentials?|auth)"
ASSIGNMENT = re.compile(
    rf"""(?i)(?<![a-z]){_KEY}[a-z0-9_]{{0,20}}["']?\s*[:=：＝]\s*["']?(?P<value>[^\s"',;\[，。]{{6,}})"""
)
ENV_KEY = re.compile(
    r"""\b[A-Z][A-Z0-9_]*(?:_KEY|PASSWORD|PASSWD|PWD|_PASS|TOKEN|SECRET)\s*=\s*["']?(?P<value>[^\s"',;\[]{6,})"""
)
CJK_ASSIGNMENT = re.compile(
    r"(?:密[碼码]|口令|[密金秘私][鑰钥]|令牌|[憑凭][證证據据]|パスワード|暗証番号|秘密鍵|비밀번호|암호)"
    r"\s*(?:[:=：＝]|是|为|為|は|는|은)?\s*(?P<value>[!-~]{6,})"
)
OPTION = re.compile(
    r"""(?:\b(?:mysql\w*|mariadb)\b[^\n|;&]*\s-p(?=[^\s-])|\bredis-cli\b[^\n|;&]*\s-a\s*|\bsshpass\s+-p\s*"""
    r"""|\bdocker\s+login\b[^\n|;&]*\s-p\s*|\s--(?:password|passwd|pass|token|secret|api-?key|auth-token)[=\s]"""
    r"""|\bcurl\b[^\n|;&]*\s(?:-u|--user)\s*['"]?[^\s:'"]+:)['"]?(?P<value>[^\s'"\[]{4,})"""
)
K8S_SECRET = re.compile(
    r"(?ms)^\s*kind:\s*Secret\s*$.*?^(?P<indent>\s*)(?:string)?[dD]ata:\s*$(?P<block>(?:\n(?P=indent)\s+.*)+)"
)
SHAPES = re.compile("|".join(f"(?P<{kind}>{shape})" for kind, shape in TOKEN_SHAPES.items()))
# Credentials run from 30 to a few hundred characters; a longer run is data (an encoded blob).
LONG_TOKEN_MIN = 30
LONG_TOKEN = re.compile(rf"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{{{LONG_TOKEN_MIN},1024}}(?![A-Za-z0-9+/=_-])")
MIXED_CLASSES = re.compile(r"(?=[^A-Z]*[A-Z])(?=[^a-z]*[a-z])(?=[^0-9]*[0-9])")
WORD = re.compile(r"[A-Z]?[a-z]{3,}")
# A random-looking token named just before as a digest is data, not a credential (a certificate's
# SHA-256 fingerprint, an image digest, a file's checksum).
DIGEST_NAMED = re.compile(r"(?i)(?:fingerprint|digest|checksum|sha-?(?:1|256|384|512)|md5|hash)[\s:=]*$")
PLACEHOLDERS = re.compile(r"\[REDACTED:[A-Za-z0-9_]+\]")
NEUTRAL = "REDACTED"  # what a placeholder reads as to the rules: a word, never a credential
ENTROPY_BITS = 4.3  # random base64 of 30+ characters scores ~4.5 and up; hex ids stay below
# Rows worth a closer look, found by RE2 a column at a time, and for each the part of the scan it
# needs: a known shape, a credential-like key being assigned, or a run of token characters with an
# upper-case letter and a digit (hashes and UUIDs in lower case, CamelCase alert names, are not).
_TOKEN = "[A-Za-z0-9+/=_-]"
PREFILTERS = {
    "shapes": r"[MNO][\w-]{23,25}\.|A[KS]IA|gh[pousr]_|github_pat_|gl[a-z]{1,3}-|xox[a-z]-|sk-|k_(?:live|test)_|SG\."
    r"|AIza|\b(?:AC|SK)[0-9a-f]|npm_|pypi-|hv[sbr]\.|hf_|AccountKey=|sig=|eyJ|PRIVATE KEY|\$[0-9a-z]{1,8}\$|\{S?SHA\}|://[^\s/@:]*:[^\s/@]+@",
    "assignments": r"(?i)(?:pass|pwd|secret|token|api.?key|access.?key|credential|auth|_KEY)[a-z0-9_]{0,20}"
    r"[\"']?\s*[:=：＝]|密|口令|[金秘私][鑰钥]|令牌|[憑凭][證证據据]|パスワード|暗証番号|秘密鍵|비밀번호|암호"
    r"|\s-[pa]|--[a-z-]*(?:pass|token|secret|key)"
    r"|(?i:curl)|(?m)^\s*(?:string)?[dD]ata:",
    "tokens": f"{_TOKEN}*[A-Z]{_TOKEN}*[0-9]{_TOKEN}*|{_TOKEN}*[0-9]{_TOKEN}*[A-Z]{_TOKEN}*",
}
CANDIDATE = "|".join(f"(?:{pattern})" for pattern in PREFILTERS.values())
EXAMPLES = 10


@dataclass
class ScanReport:
    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "line 12 (evidence …): jwt", never the value
    evidence_ids: list[str] = field(default_factory=list)  # of the lines with a finding, in order

    @property
    def found(self) -> int:
        return sum(self.counts.values())

    def add(self, line: int, kind: str, evidence_id: str | None = None) -> None:
        self.counts[kind] += 1
        if evidence_id is not None and evidence_id not in self.evidence_ids:
            self.evidence_ids.append(evidence_id)
        if len(self.examples) < EXAMPLES:
            where = f"line {line}" + (f" (evidence {evidence_id})" if evidence_id is not None else "")
            self.examples.append(f"{where}: {kind}")


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
    return has_letter and any(not c.isalpha() for c in value) and not value.startswith(NEUTRAL)


def _kubernetes_secret_values(text: str) -> int:
    found = 0
    for block in K8S_SECRET.finditer(text):
        for line in block["block"].splitlines():
            key, _, value = line.strip().partition(":")
            if key and value.strip() and not value.strip().startswith(NEUTRAL):
                found += 1
    return found


def text_findings(text: str, shapes: bool = True, assignments: bool = True, tokens: bool = True) -> list[str]:
    """Kinds of secret-like strings in ``text``; the flags skip the parts a prefilter ruled out."""
    text = PLACEHOLDERS.sub(NEUTRAL, text)
    kinds = list(dict.fromkeys(match.lastgroup for match in SHAPES.finditer(text))) if shapes else []
    if assignments:
        for pattern, kind in ((ASSIGNMENT, "credential_assignment"), (ENV_KEY, "credential_assignment"),
                              (CJK_ASSIGNMENT, "cjk_credential"), (OPTION, "command_line_credential")):  # fmt: skip
            kinds += [kind for match in pattern.finditer(text) if looks_like_credential(match["value"])]
        kinds += ["kubernetes_secret"] * _kubernetes_secret_values(text)
    if tokens:
        kinds += [
            "high_entropy"
            for match in LONG_TOKEN.finditer(text)
            if looks_random(match.group()) and not DIGEST_NAMED.search(text[max(0, match.start() - 24) : match.start()])
        ]
    return kinds


def scan_column(column: pa.Array, first_line: int, report: ScanReport, evidence_ids: pa.Array | None = None) -> None:
    """Scans one text column of a batch whose first row is line ``first_line`` of the file."""
    candidates = on_slices(lambda part: pc.match_substring_regex(part, pattern=CANDIDATE), column)
    indices = pc.indices_nonzero(candidates.fill_null(False))
    if not len(indices):
        return
    rows = column.take(indices)
    needs = {
        name: pc.match_substring_regex(rows, pattern=p).to_numpy(zero_copy_only=False) for name, p in PREFILTERS.items()
    }
    needs["tokens"] &= _has_long_mixed_token(rows)
    closer = np.flatnonzero(np.logical_or.reduce(list(needs.values())))
    if not len(closer):
        return
    ids = evidence_ids.take(indices).to_pylist() if evidence_ids is not None else [None] * len(indices)
    texts, positions = rows.to_pylist(), indices.to_pylist()
    for row in closer.tolist():
        for kind in text_findings(texts[row], *(bool(flags[row]) for flags in needs.values())):
            report.add(first_line + positions[row], kind, ids[row])


def _has_long_mixed_token(rows: pa.Array) -> np.ndarray:
    """Which rows hold a run of token characters as long as LONG_TOKEN's with an upper-case letter and
    a digit, as ``text_findings`` sees the text (placeholders read as a word): a row-wise prefilter
    would pass a short ``HTTP5xxSpike`` and a long lower-case hash alike."""
    neutral = pc.replace_substring_regex(rows, pattern=PLACEHOLDERS.pattern, replacement=NEUTRAL)
    runs = pc.split_pattern_regex(neutral, pattern=f"[^{_TOKEN[1:-1]}]+")
    tokens = pc.list_flatten(runs)
    long_mixed = pc.and_(
        pc.greater_equal(pc.utf8_length(tokens), LONG_TOKEN_MIN),
        pc.and_(pc.match_substring_regex(tokens, pattern="[A-Z]"), pc.match_substring_regex(tokens, pattern="[0-9]")),
    ).fill_null(False)
    found = np.zeros(len(rows), dtype=bool)
    found[pc.list_parent_indices(runs).filter(long_mixed).to_numpy()] = True
    return found
