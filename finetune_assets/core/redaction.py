"""Secrets out of training text: typed placeholders, and every value found redacted wherever else it
appears in the same pair.

One RE2 pass over a whole column (Arrow's regex engine) finds the rows that hold anything at all, so
clean rows cost a single scan. Only those rows are then redacted, one at a time, by the same engine
(the ``re2`` module): each rule's secret becomes ``[REDACTED:<type>]`` while the text it matched around
the secret stays, and each secret value of six characters or more is also replaced where it appears
again in the pair without its key (a password given in a log line, then repeated in the reasoning).
"""

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import re2

from .secret_rules import (
    BARE_AWS_SECRET,
    CJK,
    COMMAND_LINES,
    EMAIL,
    KEYED,
    NETWORK,
    PASSWORD_HASHES,
    STRUCTURAL,
    VENDOR_TOKENS,
    SecretRule,
    maintained_rules,
)
from .slices import on_slices

PLACEHOLDER = "[REDACTED:{}]"
# A shorter value is not distinctive: propagating password=admin would blank every "admin".
MIN_PROPAGATED = 6
# Kubernetes Secret manifests: every value under data: or stringData: is a secret, whatever its key.
K8S_SECRET_KIND = re.compile(r"(?m)^\s*kind:\s*Secret\s*$")
K8S_DATA_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$")
K8S_ENTRY = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[\w.-]+):[ \t]*(?P<value>\S.*?)[ \t]*$")
K8S_BLOCK = r"(?m)^[ \t]*(?:data|stringData):[ \t]*$"
WORD = "A-Za-z0-9_"


class RedactionPatternError(ValueError):
    """An extra pattern from configuration that RE2 cannot compile, or that matches nothing at all."""


@dataclass(frozen=True)
class Rule:
    """A compiled rule: where its secret is in a match, and what to keep around it."""

    kind: str
    pattern: str
    source: str
    compiled: object  # re2 pattern
    configured: bool = False  # from configuration: a first group is kept before the secret, a second after
    shape: bool = False

    def secret_span(self, match) -> tuple[int, int]:
        if "secret" in self.compiled.groupindex:
            return match.span(self.compiled.groupindex["secret"])
        if self.configured:
            start = match.end(1) if self.compiled.groups >= 1 and match.start(1) >= 0 else match.start()
            end = match.start(2) if self.compiled.groups >= 2 and match.start(2) >= 0 else match.end()
            return start, end
        # A maintained pattern: a first group that starts after the match does is the secret.
        if self.compiled.groups >= 1 and match.start(1) > match.start():
            return match.span(1)
        return match.span()


# One-character strings (and none): a match that leaves the character in place and still leaves its
# mark matched nothing at all. A pattern that can match the empty string shows it on one of these.
EMPTY_MATCH_PROBES = ("", "b", "B", "9", " ", "\n", "%", "_", "-", ".", "中")
MARK = "\x00"


def _matches_empty(pattern: str) -> bool:
    replaced = pc.replace_substring_regex(pa.array(EMPTY_MATCH_PROBES, pa.string()), pattern=pattern, replacement=MARK)
    return any(
        MARK in after and before in after
        for before, after in zip(EMPTY_MATCH_PROBES, replaced.to_pylist(), strict=True)
    )


def _compiled(kind: str, pattern: str, source: str, configured: bool = False, shape: bool = False) -> Rule:
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern=pattern)
    except pa.ArrowInvalid as error:
        raise RedactionPatternError(f"redaction pattern for {kind!r} is not a valid RE2 expression: {error}") from None
    if _matches_empty(pattern):
        # It would put a placeholder between every two characters of every text.
        raise RedactionPatternError(
            f"redaction pattern for {kind!r} can match the empty string: make it match a secret"
        )
    return Rule(kind, pattern, source, re2.compile(pattern), configured, shape)


def shannon_bits(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_aws_secret(value: str) -> bool:
    """A bare 40-character key: upper and lower case and digits, spread like random bytes."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
        and shannon_bits(value) >= 4.5
    )


CHECKS = {BARE_AWS_SECRET.pattern: looks_like_aws_secret}


def built_in_rules(mask_network: bool = False) -> list[SecretRule]:
    """This project's rules and the maintained vendor patterns, in the order they run."""
    return [
        *STRUCTURAL,
        *PASSWORD_HASHES,
        *VENDOR_TOKENS,
        *maintained_rules(),
        *COMMAND_LINES,
        *CJK,
        *KEYED,
        BARE_AWS_SECRET,
        EMAIL,
        *(NETWORK if mask_network else ()),
    ]


def configured_rules(patterns: Mapping[str, str]) -> list[Rule]:
    """The extra patterns from configuration, compiled; ``RedactionPatternError`` names the first bad one."""
    return [_compiled(kind, pattern, "configuration", True) for kind, pattern in patterns.items()]


@functools.cache
def compiled_built_in_rules() -> tuple[Rule, ...]:
    """Compiled once a process (about 0.3 s with detect-secrets' import): every step validates the
    settings, and the step processes inherit this from the server they fork from."""
    return tuple(_compiled(r.kind, r.pattern, r.source, shape=r.shape) for r in built_in_rules(False))


class Redactor:
    """Replaces secrets with typed placeholders and counts them per type."""

    def __init__(self, extra_patterns: Mapping[str, str] | None = None, mask_network: bool = False):
        built_in = compiled_built_in_rules()
        extra = configured_rules(extra_patterns or {})
        network = [_compiled(rule.kind, rule.pattern, rule.source) for rule in (NETWORK if mask_network else ())]
        self.rules: tuple[Rule, ...] = (*built_in, *extra, *network)
        anchored = [rule.pattern for rule in self.rules if not rule.shape] + [K8S_BLOCK]
        shapes = [rule.pattern for rule in self.rules if rule.shape]
        self._unions = ["|".join(f"(?:{pattern})" for pattern in group) for group in (anchored, shapes) if group]
        self._which = _rule_set(self.rules)

    def hits(self, column: pa.Array) -> pa.Array:
        """True for the rows that may hold a secret: a pass over the column per union of rules."""
        return on_slices(self._hits, column)

    def _hits(self, column: pa.Array) -> pa.Array:
        found = [pc.match_substring_regex(column, pattern=union).fill_null(False) for union in self._unions]
        return found[0] if len(found) == 1 else pc.or_(*found)

    def redact_pairs(self, inputs: pa.Array, outputs: pa.Array, counts: Counter) -> tuple[pa.Array, pa.Array]:
        """Both columns redacted, a pair's values propagated between its input and its output."""
        hit = pc.or_(self.hits(inputs), self.hits(outputs))
        if not pc.any(hit).as_py():
            return inputs, outputs
        pairs = zip(inputs.filter(hit).to_pylist(), outputs.filter(hit).to_pylist(), strict=True)
        redacted = [self.redact_texts(pair, counts) for pair in pairs]
        return (
            pc.replace_with_mask(inputs, hit, pa.array([pair[0] for pair in redacted], inputs.type)),
            pc.replace_with_mask(outputs, hit, pa.array([pair[1] for pair in redacted], outputs.type)),
        )

    def redact_column(self, column: pa.Array, counts: Counter) -> pa.Array:
        """The column with every secret replaced, each row on its own; ``counts`` gains the number per type."""
        hit = self.hits(column)
        if not pc.any(hit).as_py():
            return column
        rows = [self.redact_texts([text], counts)[0] for text in column.filter(hit).to_pylist()]
        return pc.replace_with_mask(column, hit, pa.array(rows, column.type))

    def redact(self, text: str, counts: Counter | None = None) -> str:
        return self.redact_texts([text], Counter() if counts is None else counts)[0]

    def redact_texts(self, texts: Sequence[str | None], counts: Counter) -> list[str | None]:
        """The texts of one pair, redacted together: a value found in one is replaced in all."""
        values: dict[str, str] = {}
        redacted = [None if text is None else self._apply_rules(text, values, counts) for text in texts]
        propagated = {value: kind for value, kind in values.items() if len(value) >= MIN_PROPAGATED}
        if propagated:
            redacted = [None if text is None else _by_value(text, propagated, counts) for text in redacted]
        return redacted

    def _apply_rules(self, text: str, values: dict[str, str], counts: Counter) -> str:
        text = _kubernetes_secret_blocks(text, values, counts)
        # One pass tells which rules match at all; the others are not run. A placeholder a rule leaves
        # matches no other rule, so the set found before any substitution is the set that would act.
        matching = self._which.Match(text)
        for rule in (self.rules[index] for index in sorted(matching)) if matching else self._unmatched(text):
            text = _substitute(rule, text, values, counts)
        return text

    def _unmatched(self, text: str) -> tuple[Rule, ...]:
        """RE2::Set answers nothing both for no match and for running out of memory: the first is
        confirmed with the unions, else every rule runs."""
        union_hit = any(re2.search(union, text) for union in self._unions)
        return self.rules if union_hit else ()

    def sources(self) -> dict[str, list[str]]:
        """Which rule set each type comes from, for the README and the card."""
        found: dict[str, list[str]] = {}
        for rule in self.rules:
            found.setdefault(rule.source, []).append(rule.kind)
        return {source: sorted(set(kinds)) for source, kinds in found.items()}


def _rule_set(rules: Sequence[Rule]) -> "re2.Set":
    which = re2.Set.SearchSet()
    for rule in rules:
        which.Add(rule.pattern)
    which.Compile()
    return which


def _substitute(rule: Rule, text: str, values: dict[str, str], counts: Counter) -> str:
    check = CHECKS.get(rule.pattern)
    pieces, position = [], 0
    for match in rule.compiled.finditer(text):
        start, end = rule.secret_span(match)
        secret = text[start:end]
        if start == end or (check is not None and not check(secret)):
            continue
        pieces += [text[position:start], PLACEHOLDER.format(rule.kind)]
        position = end
        counts[rule.kind] += 1
        values.setdefault(_unquoted(secret), rule.kind)
    return "".join(pieces) + text[position:] if pieces else text


def _unquoted(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


def _kubernetes_secret_blocks(text: str, values: dict[str, str], counts: Counter) -> str:
    """Every value under ``data:`` or ``stringData:`` of a Secret manifest in the text, including the
    lines of a multi-line value (``key: |``)."""
    if not K8S_SECRET_KIND.search(text):
        return text
    lines = text.split("\n")
    block, multiline = None, None  # indentation of the data: line, of a key whose value spans lines
    for number, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" \t"))
        if not line.strip():
            continue
        if multiline is not None and indent > multiline:
            lines[number] = line[:indent] + PLACEHOLDER.format("kubernetes_secret")
            counts["kubernetes_secret"] += 1
            continue
        multiline = None
        if (start := K8S_DATA_LINE.match(line)) is not None:
            block = len(start["indent"])
            continue
        if block is None or indent <= block:
            block = None
            continue
        entry = K8S_ENTRY.match(line)
        if entry is None or entry["value"].startswith("[REDACTED:"):
            continue
        if entry["value"] in ("|", ">", "|-", ">-", "|+", ">+"):
            multiline = indent
            continue
        lines[number] = f"{entry['indent']}{entry['key']}: {PLACEHOLDER.format('kubernetes_secret')}"
        counts["kubernetes_secret"] += 1
        values.setdefault(_unquoted(entry["value"]), "kubernetes_secret")
    return "\n".join(lines)


def _by_value(text: str, values: Mapping[str, str], counts: Counter) -> str:
    """Each value, wherever it appears again, becomes its placeholder; a value that begins (or ends)
    with a letter or digit must not be part of a longer word there."""
    for value in sorted(values, key=len, reverse=True):
        if value not in text:  # the common case: found once, where it is already a placeholder
            continue
        before = f"(?<![{WORD}])" if value[0] in WORD or value[0].isalnum() else ""
        after = f"(?![{WORD}])" if value[-1] in WORD or value[-1].isalnum() else ""
        pattern = re.compile(before + re.escape(value) + after)
        text, replaced = pattern.subn(PLACEHOLDER.format(values[value]).replace("\\", "\\\\"), text)
        counts[values[value]] += replaced
    return text
