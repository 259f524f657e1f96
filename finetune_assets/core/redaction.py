"""Secrets out of training text: every secret found anywhere in an incident becomes a typed
placeholder, in every text of that incident, and the text around it stays.

Two kinds of rules find secrets. Pattern rules know a secret by its own shape (vendor tokens, private
keys, password hashes, JWTs; ``secret_rules``). Context rules know it by where it stands: a value in
a credential position, in any syntax (``credentials``). Both read the text folded by NFKC with
invisible characters dropped (``credentials.text_view``), and every span they find maps back to the
characters as written.

Then by value: each secret found (six characters or more) is replaced wherever else it appears in
any text of the same incident (its evidences, the coordinator's output, the executed steps, the
labels, the metadata), compared case-insensitively through the same folding. A password named in a
log line of one evidence is gone from the reasoning of every pair of that incident.

One RE2 pass a column finds the rows that may hold anything, so clean rows cost a single scan; the
rules run only on the incidents those rows belong to. Every rule is RE2 or reads forward through
what it finds, so the time is linear in the text.
"""

import bisect
import functools
import html
import math
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import ahocorasick
import pyarrow as pa
import pyarrow.compute as pc
import re2

from .credentials.commands import command_findings
from .credentials.embedded import embedded_texts, escaped
from .credentials.finding import Finding
from .credentials.keyed import keyed_findings
from .credentials.structures import kubernetes_findings, pgpass_findings, url_findings
from .credentials.text_view import TextView
from .pattern_sets import PatternSet, union
from .secret_rules import (
    BARE_AWS_SECRET,
    CONTEXT_ANCHORS,
    EMAIL,
    NETWORK,
    PASSWORD_HASHES,
    STRUCTURAL,
    VENDOR_TOKENS,
    WIDER_SHAPES,
    SecretRule,
    maintained_rules,
)
from .slices import on_columns

PLACEHOLDER = "[REDACTED:{}]"
_BACKSLASH_ESCAPE = re2.compile(r"\\(.)")
# A shorter value is not distinctive: propagating password=admin would blank every "admin".
MIN_PROPAGATED = 6
# Longer spans are redacted where found but not searched for elsewhere: a real credential is
# shorter, and a run of keys ("password=password=...") would otherwise yield values whose total
# length grows with the square of the text.
MAX_PROPAGATED = 512
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class RedactionPatternError(ValueError):
    """An extra pattern from configuration that RE2 cannot compile, or that matches nothing at all."""


@dataclass(frozen=True)
class Rule:
    """A compiled pattern rule: where its secret is in a match."""

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
    """The pattern rules, most specific first: where two overlap, the earlier names the secret."""
    return [
        *STRUCTURAL,
        *PASSWORD_HASHES,
        *VENDOR_TOKENS,
        *maintained_rules(),
        BARE_AWS_SECRET,
        EMAIL,
        *(NETWORK if mask_network else ()),
    ]


def configured_rules(patterns: Mapping[str, str]) -> list[Rule]:
    """The extra patterns from configuration, compiled; ``RedactionPatternError`` names the first bad one."""
    return [_compiled(kind, pattern, "configuration", True) for kind, pattern in patterns.items()]


@functools.cache
def compiled_built_in_rules() -> tuple[Rule, ...]:
    """Compiled once a process, when first needed (about 0.25 s): loading the code location or
    checking the settings never needs them."""
    return tuple(_compiled(r.kind, r.pattern, r.source, shape=r.shape) for r in built_in_rules(False))


def context_findings(view: TextView) -> list[Finding]:
    """Secrets found by where they stand, in any syntax."""
    return [
        *kubernetes_findings(view),
        *url_findings(view),
        *pgpass_findings(view),
        *keyed_findings(view),
        *command_findings(view),
    ]


class Redactor:
    """Replaces secrets with typed placeholders, an incident at a time, and counts them per type."""

    def __init__(self, extra_patterns: Mapping[str, str] | None = None, mask_network: bool = False):
        built_in = compiled_built_in_rules()
        extra = configured_rules(extra_patterns or {})
        network = [_compiled(rule.kind, rule.pattern, rule.source) for rule in (NETWORK if mask_network else ())]
        self.rules: tuple[Rule, ...] = (*built_in, *extra, *network)
        anchored = [rule.pattern for rule in self.rules if not rule.shape]
        shapes = [WIDER_SHAPES.get(rule.pattern, rule.pattern) for rule in self.rules if rule.shape]
        # The column scan also looks for where a context rule could find something.
        self._unions = [union([*anchored, *CONTEXT_ANCHORS]), *([union(shapes)] if shapes else [])]
        self._which = PatternSet([rule.pattern for rule in self.rules])

    def hits(self, *columns: pa.Array) -> list[pa.Array]:
        """For each column, true for the rows that may hold a secret: one pass per union of rules
        over all the columns together."""
        return on_columns(self._hits, columns)

    def _hits(self, column: pa.Array) -> pa.Array:
        found = [pc.match_substring_regex(column, pattern=union).fill_null(False) for union in self._unions]
        return found[0] if len(found) == 1 else pc.or_(*found)

    def redact(self, text: str, counts: Counter | None = None) -> str:
        return self.redact_incident([text], Counter() if counts is None else counts)[0]

    def redact_incident(
        self,
        texts: Sequence[str | None],
        counts: Counter,
        context: Iterable[str | None] = (),
        unread: frozenset[str] = frozenset(),
    ) -> list[str | None]:
        """The texts of one incident, redacted together: a secret found in any of them, or in the
        ``context`` texts (raw documents, labels: read, not returned), is replaced in all. Texts in
        ``unread`` hold nothing any rule could find (the column prefilter says so): only values found
        elsewhere are looked for in them."""
        read = {text: TextView.of(text) for text in (*texts, *context) if text and text not in unread}
        for text in list(read):
            for inner in embedded_texts(text):
                read.setdefault(inner, TextView.of(inner))
        found = {text: self._findings(view) for text, view in read.items()}
        values = _automaton(_values(read, found))
        redacted, per_text = {}, {}
        for text in dict.fromkeys(texts):
            if not text:
                continue
            per_text[text] = Counter()
            if text in read:
                redacted[text] = _replaced(read[text], found[text], values, per_text[text])
            elif values is not None:
                redacted[text] = _replaced(TextView.of(text), [], values, per_text[text])
        for text in texts:
            if text:
                counts.update(per_text[text])  # a text repeated in the incident counts each time
        return [redacted.get(text, text) if text else text for text in texts]

    def hits_by_name(self, columns: Mapping[str, pa.Array], context: Mapping[str, pa.Array]) -> dict[str, pa.Array]:
        """``hits`` of the text columns (as ``text:<name>``) and the context columns (``context:<name>``)."""
        everything = {
            **{f"text:{name}": column for name, column in columns.items()},
            **{f"context:{name}": column for name, column in context.items()},
        }
        return dict(zip(everything, self.hits(*everything.values()), strict=True))

    def redact_incidents(
        self,
        incident_ids: pa.Array,
        columns: Mapping[str, pa.Array],
        context: Mapping[str, pa.Array],
        counts: Counter,
        column_hits: Mapping[str, pa.Array] | None = None,
    ) -> dict[str, pa.Array]:
        """Text columns of a batch whose incidents are whole (no incident goes on in another batch),
        each incident's texts redacted together with what its ``context`` columns name.
        ``column_hits`` is ``hits_by_name`` of the same columns, when it was found ahead."""
        if column_hits is None:
            column_hits = self.hits_by_name(columns, context)
        row_hit = functools.reduce(pc.or_, column_hits.values())
        if not pc.any(row_hit).as_py():
            return dict(columns)
        # Every row of an incident with a hit: a value named in one row is redacted in all of them.
        touched = pc.is_in(incident_ids, value_set=pc.unique(incident_ids.filter(row_hit)))
        rows = pc.indices_nonzero(touched)
        ids = incident_ids.take(rows).to_pylist()
        texts = {name: column.take(rows).to_pylist() for name, column in columns.items()}
        read = {name: column.take(rows).to_pylist() for name, column in context.items()}
        hit = {name: flags.take(rows).to_pylist() for name, flags in column_hits.items()}
        groups: dict[str, list[int]] = {}
        for row, incident in enumerate(ids):
            groups.setdefault(incident, []).append(row)
        for members in groups.values():
            names = list(texts)
            flat = [texts[name][row] for row in members for name in names]
            known = [read[name][row] for row in members for name in read]
            unread = frozenset(
                [texts[name][row] for row in members for name in names if not hit[f"text:{name}"][row]]
                + [read[name][row] for row in members for name in read if not hit[f"context:{name}"][row]]
            )
            redacted = iter(self.redact_incident(flat, counts, known, unread))
            for row in members:
                for name in names:
                    texts[name][row] = next(redacted)
        return {
            name: pc.replace_with_mask(column, touched, pa.array(texts[name], column.type))
            for name, column in columns.items()
        }

    def _findings(self, view: TextView) -> list[tuple[int, int, str]]:
        """(start, end, type) in the view, pattern rules first so a token is named by its vendor."""
        found = []
        for rule in (self.rules[index] for index in self._which.matching(view.text)):
            check = CHECKS.get(rule.pattern)
            for match in rule.compiled.finditer(view.text):
                start, end = rule.secret_span(match)
                if start < end and (check is None or check(view.text[start:end])):
                    found.append((start, end, rule.kind))
        context = [(f.start, f.end, f.kind) for f in context_findings(view) if f.start < f.end]
        # An address inside a URL's user information is part of its password, and the host after it stays.
        urls = sorted((start, end) for start, end, kind in context if kind == "url_credentials")
        found = [span for span in found if span[2] != "email" or not _inside_any(span, urls)]
        return found + context

    def sources(self) -> dict[str, list[str]]:
        """Which rule set each pattern type comes from."""
        found: dict[str, list[str]] = {}
        for rule in self.rules:
            found.setdefault(rule.source, []).append(rule.kind)
        return {source: sorted(set(kinds)) for source, kinds in found.items()}


def _inside_any(span: tuple, sorted_spans: list[tuple[int, int]]) -> bool:
    """Whether ``span`` overlaps one of the sorted, non-overlapping ``sorted_spans``."""
    index = bisect.bisect_right(sorted_spans, (span[0], float("inf"))) - 1
    nearby = sorted_spans[max(0, index) : index + 2]
    return any(span[0] < end and start < span[1] for start, end in nearby)


def unescaped(value: str) -> list[str]:
    """The value as another text would mention it: without the escapes its syntax needed (JSON and
    C backslashes, YAML's doubled quote, XML entities, a shell's ``'\\''``, URL percent-encoding)."""
    variants = []
    if "\\" in value:
        variants.append(_BACKSLASH_ESCAPE.sub(lambda match: match.group(1), value))
    if "''" in value:
        variants.append(value.replace("''", "'"))
    if "'\\''" in value:
        variants.append(value.replace("'\\''", "'"))
    if "&" in value and ";" in value:
        variants.append(html.unescape(value))
    if "%" in value:
        variants.append(urllib.parse.unquote(value))
    return [TextView.of(variant).text for variant in variants if variant != value]


def _values(views: Mapping[str, TextView], found: Mapping[str, list[tuple[int, int, str]]]) -> dict[str, str]:
    """Each secret's value as read (lower case) -> its type; a value with quotes or trailing
    punctuation is also kept without them."""
    values: dict[str, str] = {}
    for text, spans in found.items():
        view = views[text]
        for start, end, kind in spans:
            if end - start > MAX_PROPAGATED:
                continue
            value = view.text[start:end].strip()
            read = (value, value.strip("\"'`"), value.rstrip(".,;:!?)]}\"'"), *unescaped(value))
            for variant in (*read, *(inside for item in read for inside in escaped(item))):
                if len(variant) >= MIN_PROPAGATED and not variant.startswith("[REDACTED:"):
                    values.setdefault(variant.lower(), kind)
    return values


def _automaton(values: Mapping[str, str]) -> "ahocorasick.Automaton | None":
    """One Aho-Corasick automaton of an incident's values (lower case -> type), built once and run over
    each of its texts: it finds every value in one pass, however many an incident holds."""
    if not values:
        return None
    automaton = ahocorasick.Automaton()
    for value, kind in values.items():
        automaton.add_word(value, (len(value), kind))
    automaton.make_automaton()
    return automaton


def _replaced(
    view: TextView, spans: list[tuple[int, int, str]], values: "ahocorasick.Automaton | None", counts: Counter
) -> str:
    """The original text with each span found in it, and each occurrence of a value, replaced."""
    everything = [*spans, *_occurrences(view, values)]
    if not everything:
        return view.original
    original = [(*view.span(start, end), kind) for start, end, kind in everything]
    pieces, position = [], 0
    for start, end, kind in _merged(original):
        pieces += [view.original[position:start], PLACEHOLDER.format(kind)]
        position = end
        counts[kind] += 1
    return "".join(pieces) + view.original[position:]


def _occurrences(view: TextView, values: "ahocorasick.Automaton | None") -> list[tuple[int, int, str]]:
    """Where each value appears in the text (case-insensitively), not inside a longer word."""
    if values is None:
        return []
    lowered = view.text.lower()
    if len(lowered) != len(view.text):  # a character whose lower case is longer: compare as written
        lowered = view.text
    found = []
    for last, (length, kind) in values.iter(lowered):
        start, end = last + 1 - length, last + 1
        value_start, value_end = lowered[start], lowered[end - 1]
        before = lowered[start - 1] if start else ""
        after = lowered[end] if end < len(lowered) else ""
        if not (value_start in WORD_CHARS and before in WORD_CHARS) and not (
            value_end in WORD_CHARS and after in WORD_CHARS
        ):
            found.append((start, end, kind))
    return found


def _merged(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, named by the one found first (pattern rules come first)."""
    order = {id(span): rank for rank, span in enumerate(spans)}
    merged: list[list] = []
    for span in sorted(spans, key=lambda item: (item[0], -item[1])):
        start, end, _ = span
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if order[id(span)] < last[3]:
                last[2], last[3] = span[2], order[id(span)]
            continue
        merged.append([start, end, span[2], order[id(span)]])
    return [(start, end, kind) for start, end, kind, _ in merged]
