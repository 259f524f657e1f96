"""Secrets out of training text: typed placeholders, a column at a time.

Patterns are RE2 expressions (Arrow's regex engine), applied in order. A pattern's first capturing
group, when it has one, is the text to keep in front of the secret (``password=``, ``Bearer ``,
``postgres://user:``), a second group the text to keep after it (the ``@`` before a host); the
secret in between becomes ``[REDACTED:<type>]``. RE2 finds the rows that
hold anything at all in one pass, so clean rows cost a single scan.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

PLACEHOLDER = "[REDACTED:{}]"
# A value after "key=" or "key: ": quoted, or up to white space or a separator. It never starts with
# "[", so a placeholder written by an earlier rule is not redacted twice.
_VALUE = r"""(?:"[^"\n]*"|'[^'\n]*'|[^\s"'\[\]{}<>,;&]+)"""
_ASSIGN = r"""["']?[ \t]*[:=][ \t]*"""


def _keyed(keys: str) -> str:
    # The keyword anywhere in the key (DB_PASSWORD, dbPassword, SecretAccessKey, api_key_id), but
    # a lower-case tail makes another word: "tokens: 4096" and "passwordless: true" stay.
    return rf"(\b[A-Za-z0-9_.-]*(?i:{keys})(?:[_.-][A-Za-z0-9_.-]*|[A-Z][A-Za-z0-9_.-]*)?{_ASSIGN}){_VALUE}"


# (type, pattern), most specific first: a URL's password goes before e-mail addresses could claim
# "pass@host", a private key block before anything inside it.
SECRET_RULES: tuple[tuple[str, str], ...] = (
    ("private_key", r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)"),
    ("url_credentials", r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\[\]]*:)[^\s/?#@\[\]]+(@)"),
    (
        "authorization",
        r"(?i)(authorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:bearer|basic|token|digest)[ \t]+)[A-Za-z0-9._~+/=-]+",
    ),
    ("bearer_token", r"(?i)(\bbearer[ \t]+)[A-Za-z0-9._~+/-]*[0-9._~+/-][A-Za-z0-9._~+/-]*=*"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    ("aws_secret_access_key", r"(?i)(aws_?secret_?(?:access_?)?key" + _ASSIGN + r"[\"']?)[A-Za-z0-9/+]{40}"),
    ("github_token", r"\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ("gitlab_token", r"\bgl(?:pat|dt|rt|ptt|ft|cbt|imt|oas|soat)-[A-Za-z0-9_-]{20,}"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    ("openai_api_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("password", _keyed("password|passwd|passphrase|pwd")),
    ("secret", _keyed("secret|client_secret|secret_key|private_key")),
    ("token", _keyed("token|access_token|refresh_token|auth_token")),
    ("api_key", _keyed("api_key|apikey|api-key|access_key|access_key_id")),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
)
# Kept by default: the model needs addresses and host names to reason about an incident.
NETWORK_RULES: tuple[tuple[str, str], ...] = (
    ("ip_address", r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    # IPv6 in full (eight groups) or shortened with "::"; clock times such as 12:30:45 stay.
    (
        "ip_address",
        r"\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}\b"
        r"|\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?\b",
    ),
    ("hostname", r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b"),
)


class RedactionPatternError(ValueError):
    """An extra pattern from configuration that RE2 cannot compile."""


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: str

    @property
    def replacement(self) -> str:
        before = r"\1" if _has_group(self.pattern, 1) else ""
        after = r"\2" if _has_group(self.pattern, 2) else ""
        return before + PLACEHOLDER.format(self.kind) + after


def _has_group(pattern: str, number: int) -> bool:
    probe = pa.array([""], pa.string())
    try:
        pc.replace_substring_regex(probe, pattern=pattern, replacement=f"\\{number}")
    except pa.ArrowInvalid:
        return False
    return True


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


def _validated(kind: str, pattern: str) -> Rule:
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern=pattern)
    except pa.ArrowInvalid as error:
        raise RedactionPatternError(f"redaction pattern for {kind!r} is not a valid RE2 expression: {error}") from None
    if _matches_empty(pattern):
        # It would put a placeholder between every two characters of every text.
        raise RedactionPatternError(
            f"redaction pattern for {kind!r} can match the empty string: make it match a secret"
        )
    return Rule(kind, pattern)


class Redactor:
    """Replaces secrets with typed placeholders and counts them per type."""

    def __init__(self, extra_patterns: Mapping[str, str] | None = None, mask_network: bool = False):
        rules = [*SECRET_RULES, *(extra_patterns or {}).items(), *(NETWORK_RULES if mask_network else ())]
        self.rules = tuple(_validated(kind, pattern) for kind, pattern in rules)
        self._any = "|".join(f"(?:{rule.pattern})" for rule in self.rules)

    def redact_column(self, column: pa.Array, counts: Counter) -> pa.Array:
        """The column with every secret replaced; ``counts`` gains the number replaced per type."""
        hit = pc.match_substring_regex(column, pattern=self._any).fill_null(False)
        if not pc.any(hit).as_py():
            return column
        rows = column.filter(hit)
        for rule in self.rules:
            found = pc.sum(pc.count_substring_regex(rows, pattern=rule.pattern)).as_py() or 0
            if found:
                counts[rule.kind] += found
                rows = pc.replace_substring_regex(rows, pattern=rule.pattern, replacement=rule.replacement)
        return pc.replace_with_mask(column, hit, rows.cast(column.type))

    def redact(self, text: str, counts: Counter | None = None) -> str:
        return self.redact_column(pa.array([text], pa.large_string()), Counter() if counts is None else counts)[
            0
        ].as_py()
