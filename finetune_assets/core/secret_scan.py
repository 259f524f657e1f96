"""A second opinion on training text: finds secret-like strings the redactor may have missed.

Deliberately not the redactor's reading. The redactor parses each syntax to know where a value starts
and ends; the scanner ignores syntax: after any credential word it skips what joins a key to its
value in any notation (quotes, ``:``, ``=``, ``=>``, ``>``, ``|``, a line break and indentation,
``value:``, ``is``) and asks of the first thing that follows whether it looks like a credential. It
keeps its own vocabulary, its own idea of what a credential looks like, its own list of command-line
options, and an entropy test on long tokens, so a gap in one is caught by the other. A placeholder the
redactor wrote is never a finding. Reports where (line, evidence id) and what kind, never the value.

Every pattern is RE2, and each finding reads a bounded window after it: time linear in the text.
"""

import bisect
import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import re2

from .pattern_sets import PatternSet, union
from .slices import joined_columns, on_slices

TOKEN_SHAPES = {
    "aws_key_id": r"\bA[KS]IA[0-9A-Z]{16}\b",
    "github": r"\bgh[pousr]_[0-9A-Za-z]{20,}|\bgithub_pat_[0-9A-Za-z_]{20,}",
    "gitlab": r"\bgl(?:pat|dt|rt|ptt|ft|cbt)-[0-9A-Za-z_-]{10,}",
    "slack": r"\bxox[a-z]-[0-9A-Za-z-]{8,}",
    "openai": r"\bsk-[A-Za-z0-9_-]{16,}",
    "stripe": r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{10,}",
    "sendgrid": r"\bSG\.[\w-]{16,}\.[\w-]{16,}",
    "google": r"\bAIza[\w-]{30,}",
    "twilio": r"\b(?:AC|SK)[0-9a-f]{32}\b",
    "npm": r"\bnpm_[0-9A-Za-z]{30,}",
    "pypi": r"\bpypi-[\w-]{40,}",
    "vault": r"\bhv[sbr]\.[\w-]{20,}",
    "huggingface": r"\bhf_[0-9A-Za-z]{25,}",
    "azure_key": r"AccountKey=[\w+/=]{30,}",
    "azure_sas": r"[?&]sig=[\w%+/=]{16,}",
    "discord": r"\b[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27}\b",
    "jwt": r"\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}",
    "private_key": r"-----BEGIN[ A-Z0-9]*PRIVATE KEY",
    "password_hash": r"\$(?:2[abxy]?\$\d\d|1|5|6|apr1|y|argon2(?:id|i|d)|pbkdf2[\w-]*)\$[./\w+$,=-]{16,}"
    r"|\{S?SHA\}[\w+/]{20,}",
}
_SHAPE_SET = PatternSet(list(TOKEN_SHAPES.values()))
_SHAPES = [(kind, re2.compile(pattern)) for kind, pattern in TOKEN_SHAPES.items()]

PLACEHOLDERS = re2.compile(r"\[REDACTED:[A-Za-z0-9_]+\]")
NEUTRAL = "REDACTED"  # what a placeholder reads as to the rules: a word, never a credential
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"))
_INVISIBLE = re2.compile("[" + "".join(map(chr, INVISIBLE)) + "]")

# A credential word; whether it is one is decided on the whole word around it (``_is_key``).
_WORD = re2.compile(
    r"(?i)pass|pwd|pw|secret|token|api.?key|access.?key|private.?key|credential|creds|auth|cookie|session|sess"
    r"|community|psk|\bkey\b|sig\b|signature"
    r"|密[碼码]|口令|[密金秘私][鑰钥]|令牌|[憑凭][證证據据]|通行[碼码]|パスワード|暗証番号|秘密鍵|トークン|비밀번호|암호|토큰|패스워드"
)
_RUN_END = re2.compile(r"[^A-Za-z0-9_.\-]")
_CJK_WORD = re2.compile(r"[^\x00-\x7f]")
_KEY_WORDS = frozenset(
    "pass password passwd passwort passphrase passcode pwd pw secret token apikey accesskey privatekey credential "
    "credentials creds auth cookie session sessionid sessid jsessionid phpsessid community psk key sig signature "
    "storepass keypass requirepass masterauth sshpass passin passout authtoken accesstoken refreshtoken "
    "clientsecret secretkey".split()
)
_ENDINGS = ("password", "passwd", "secret", "token", "pass", "apikey", "sessid", "pwd")
_NOT_KEYS = frozenset(
    "bypass compass passing passed passes passage passenger passport passive passthrough tokenizer tokens keys "
    "keyboard keyword keyspace keystore keyring author authority authors authentication authorize oauth sessions "
    "passwordless askpass secrets cookies signal sign design assign".split()
)
# A last part that makes the name something about a credential (``token_expiry``, ``secretName``).
_ABOUT = frozenset(
    "name policy expiry expires expiration ttl age ref file path dir url uri endpoint host port length min max "
    "count limit type kind mode enabled required reset version header format hint provider source store manager "
    "backend field env var id ids size timeout interval duration rotation strength stdin prompt helper status "
    "method scope issuer label description reference secret_name type_name class mount bucket limiter refresh"
    " service services sidecar rate affinity".split()
)
# What joins a key to its value in some notation, skipped on the way to the value.
_JOINER = re2.compile(
    r"""(?:[\s"'`:=>|\-,({\[<]|\\[nt"]|&quot;|!\[CDATA\[|(?:value|is|was|are)\b|是|為|为|は|는|은)*"""
)
_VALUE = re2.compile(r"""(?:\\.|[^\s"'`<>(){}\[\]\\])+""")
_OPTION_VALUE = re2.compile(r"""(?:^|[\s'"])-{1,2}([A-Za-z][\w.-]{1,63})(?:=|[ \t]+)['"]?([^\s'"]+)""")
# Short options that take a secret, per family of tools: (tools, options).
_SHORT_OPTION_TOOLS = (
    (r"mysql\w*|mariadb\w*|mongo\w*|sshpass|7z\w?", "p"),
    (r"redis-cli", "a"),
    (r"ldap\w+", "w"),
    (r"sqlcmd|bcp|osql|ipmitool|mosquitto_\w+|zip|unzip", "P"),
    (r"snmp\w+", "cAX"),
    (r"(?:docker|podman|nerdctl|helm|oc|az|twine)\b[^\n|]{0,100}?\b(?:login|upload)", "p"),
)
_SHORT_OPTIONS = [
    re2.compile(rf"""\b(?:{tools})\b[^\n|]{{0,200}}?[ \t]-[{letters}][ \t]*['"]?([^\s'"]+)""")
    for tools, letters in _SHORT_OPTION_TOOLS
]
_USER_AND_SECRET = re2.compile(
    r"""\b(?:curl\b[^\n|]{0,200}?[ \t](?:-u|--user)[ \t]*['"]?[^\s:'"]+:"""
    r"""|smbclient\b[^\n|]{0,200}?[ \t]-U[ \t]*['"]?[^\s%'"]+%)([^\s'"]+)"""
)
_POSITIONAL = re2.compile(
    r"""\b(?:htpasswd[ \t]+-\w*b\w*(?:[ \t]+\S+){1,2}|rabbitmqctl[ \t]+(?:add_user|change_password)[ \t]+\S+"""
    r"""|wpa_passphrase[ \t]+\S+|net[ \t]+user[ \t]+\S+)[ \t]+['"]?([^\s'"]+)"""
)
_PGPASS = re2.compile(r"(?m)(?:^|\s)[\w.*\-]+:(?:\d{1,5}|\*):[\w*.\-]+:[\w*.\-@]+:(\S+)")
_SQL = re2.compile(r"""(?i)\bidentified\s+(?:with\s+\S+\s+)?by\s+(?:password\s+)?['"]?([^\s'"]+)""")
_HERE_STRING = re2.compile(
    r"""\b(?:kinit|chpasswd|passwd|cryptsetup|htpasswd|vault|login)\b[^\n|;&]{0,256}<<<[ \t]*['"]?([^\s'"]+)"""
)
_CHPASSWD = re2.compile(
    r"""(?:echo|printf)[ \t]+(?:-\w+[ \t]+)*['"]?[\w.-]+:([^\s'"|]+)['"]?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd"""
)
_URL_PASSWORD = re2.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:(\S*)@[A-Za-z0-9\[]")
_PORT = re2.compile(r"\d{1,5}(?:[/?#]|$)")
_K8S_SECRET = re2.compile(r"(?m)^[ \t-]*kind:[ \t]*[\"']?Secret|\"kind\"\s*:\s*\"Secret\"")
_K8S_DATA = re2.compile(r"(?m)^([ \t]*)(?:string)?[dD]ata:[ \t]*$|\"(?:string)?[dD]ata\"\s*:\s*\{")
_JSON_ESCAPE = re2.compile(r"\\u([0-9a-fA-F]{4})")
_DOCUMENT = re2.compile(r"(?m)^---")
_JSON_ENTRY = re2.compile(r'"[\w.-]+"\s*:\s*"([^"]*)"')
LONG_TOKEN_MIN, LONG_TOKEN_MAX = 30, 1024
_LONG_TOKEN = re2.compile(r"[A-Za-z0-9+/=_-]{30,}")
_DIGEST_NAMED = re2.compile(r"(?i)(?:fingerprint|digest|checksum|sha-?(?:1|256|384|512)|md5|hash)[\s:=]*$")
_NOT_SECRET = re2.compile(
    r"(?i)(?:true|false|yes|no|on|off|null|none|nil|enabled|disabled|required|optional|redacted\w*"
    r"|(?-i:[-+]?\d+(?:\.\d+)?(?:%|[a-z]{1,3}|[KMGTPE]i?B?)?)|v?\d+(?:\.\d+)+[\w.+-]*|\d{4}-\d\d-\d\d[\w:.+-]*"
    r"|[$%][{(]?[\w.]+[})]?%?|\{\{.*\}\}|(?:~|\.{0,2})/[\w./@+-]*|[\w-]+(?:\.[\w-]+)+\.(?:pem|key|crt|jks|p12|pfx"
    r"|json|ya?ml|conf|txt|env)|[a-z][a-z0-9+.-]*://[^\s@]*|[a-z0-9-]+(?:\.[a-z0-9-]+)+|[*x•.#-]+|(?-i:[A-Z]?[a-z]+(?:[A-Z][a-z]+)*(?:-[a-z]+)*|[A-Z]+(?:[-_][A-Z]+)*)"
    r"|[a-z]+(?:-[a-z]+)*[-_.]v?\d+(?:\.\d+)*|[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?:[:@/]v?\d[\w.-]*)?|(?:env|file|fd):\$?\w+|stdin)"
)
_WORDISH = re2.compile(r"[A-Z]?[a-z]{3,}")
# Rows worth a closer look, found by RE2 a column at a time: a known shape's start, a credential
# word, a tool that takes secrets, a URL with user information, characters that fold to ASCII, or a
# run of token characters with an upper-case letter and a digit (see ``_has_long_mixed_token``).
_TOKEN = "[A-Za-z0-9+/=_-]"
# A token character or a placeholder's (``[REDACTED:kind]`` reads as a word inside a token). In a run of
# 30 of these holding an upper-case letter and a digit, the part before the first of the two, the part
# between them or the part after the second is 10 long: what the "tokens" prefilter asks, so it lets
# through every row ``_has_long_mixed_token`` could find something in, and few others.
_RUN = r"[A-Za-z0-9+/=_\-\[\]:]"
PREFILTERS = {
    "shapes": r"[MNO][\w-]{23,25}\.|A[KS]IA|gh[pousr]_|github_pat_|gl[a-z]{1,3}-|xox[a-z]-|sk-|k_(?:live|test)_|SG\."
    r"|AIza|\b(?:AC|SK)[0-9a-f]|npm_|pypi-|hv[sbr]\.|hf_|AccountKey=|sig=|eyJ|PRIVATE KEY|\$[0-9a-z]{1,8}\$|\{S?SHA\}",
    "context": r"(?i:pass|pwd|pw|secret|token|key|auth|cred|cookie|sess|communit|psk|sig|://\S*@|chpasswd|htpasswd"
    r"|rabbitmqctl|wpa_passphrase|net\s+user|kind|identified|<<<)|:(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:|密|口令|[金秘私][鑰钥]|令牌|[憑凭][證证據据]|通行|パスワード|暗証番号"
    r"|秘密鍵|トークン|비밀번호|암호|토큰|패스워드|\s-[pPawcAXuU]"
    r"|[\x{ff10}-\x{ff19}\x{ff21}-\x{ff3a}\x{ff41}-\x{ff5a}\x{1d400}-\x{1d7ff}\x{2460}-\x{24ff}\x{2100}-\x{214f}"
    r"\x{fb00}-\x{fb06}\x{200b}-\x{200f}\x{2060}-\x{2064}\x{feff}\x{00ad}]|\\u[0-9a-fA-F]{4}",
    "tokens": "|".join(
        rf"{_RUN}{{10}}{first}{_RUN}*{then}|{first}{_RUN}*{then}{_RUN}{{10}}|{first}{_RUN}{{8,}}{then}"
        for first, then in (("[A-Z]", "[0-9]"), ("[0-9]", "[A-Z]"))
    ),
}
# The one pass over every row. Its counted runs would make the "tokens" prefilter's automaton too big
# for one union with the others, so the union holds a wider form of it (a capital and a digit in one
# run, of any length) and the candidate rows are then tried against each prefilter.
_MIXED_RUN = rf"[A-Z]{_RUN}*[0-9]|[0-9]{_RUN}*[A-Z]"
CANDIDATE = union([PREFILTERS["shapes"], PREFILTERS["context"], _MIXED_RUN])
ENTROPY_BITS = 4.3  # random base64 of 30+ characters scores ~4.5 and up; hex ids stay below
EXAMPLES = 10
JOIN_WINDOW = 48


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
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)):
        return False
    in_words = sum(map(len, _WORDISH.findall(token)))
    return in_words * 2 < len(token) and shannon_bits(token) >= ENTROPY_BITS


def looks_like_credential(value: str) -> bool:
    """Six characters or more, not a shape of an ordinary setting, and letters with digits or symbols
    (or capitals inside): "hunter2!" is one, "true", "4096", "/var/lib/app" and "ldap-v3" are not."""
    value = value.strip(".,;:!?)]}'\"")
    if len(value) < 6 or NEUTRAL in value:
        return False
    if not any(c.isascii() and c.isalnum() for c in value):  # CJK prose after a key word
        return False
    if len(value) <= 256 and _NOT_SECRET.fullmatch(value):
        return False
    letters = sum(c.isalpha() for c in value)
    digits = sum(c.isdigit() for c in value)
    symbols = len(value) - letters - digits
    inner_capital = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    if not letters:
        return digits >= 1 and symbols >= 1 and len(value) >= 8
    return bool(digits or symbols or inner_capital)


def _unescaped(escape) -> str:
    char = chr(int(escape.group(1), 16))
    return escape.group() if 0xD800 <= ord(char) <= 0xDFFF else char


def _fold(text: str) -> str:
    """As a person reads it: NFKC, invisible characters dropped, placeholders read as a plain word."""
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(_unescaped, text)
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if _INVISIBLE.search(text):  # a translation is slow on a long text, a search is not
            text = text.translate(INVISIBLE)
    return PLACEHOLDERS.sub(NEUTRAL, text) if "[REDACTED:" in text else text


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_.-"


def _word_at(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """The word around a hit, and whether it is short enough to be a key (a run of 96 word characters
    or more is data, read to its end so that no later hit inside it is looked at again)."""
    while start > 0 and end - start < 96 and _word_char(text[start - 1]):
        start -= 1
    while end < len(text) and end - start < 96 and _word_char(text[end]):
        end += 1
    if end - start < 96 and not (start > 0 and _word_char(text[start - 1])):
        return start, end, True
    found = _RUN_END.search(text[end : end + 1_000_000])
    return start, end + (found.start() if found else len(text) - end), False


def _parts(word: str) -> list[str]:
    parts, current = [], ""
    for index, char in enumerate(word):
        if not char.isalnum():
            parts, current = parts + [current], ""
            continue
        if (
            current
            and char.isupper()
            and (current[-1].islower() or (index + 1 < len(word) and word[index + 1].islower()))
        ):
            parts, current = parts + [current], ""
        current += char
    return [part.lower() for part in parts + [current] if part]


def _is_key(word: str) -> bool:
    """A whole word (``DB_PASSWORD``, ``dbPassword``, ``X-Auth-Token``) that names a credential."""
    parts = _parts(word)
    if not parts or len(parts) > 6 or parts[-1] in _ABOUT or parts[-1] in _NOT_KEYS or parts[0] == "no":
        return False
    joined = "".join(parts)
    return any(part in _KEY_WORDS for part in parts) or (
        joined not in _NOT_KEYS and len(joined) <= 24 and joined.endswith(_ENDINGS)
    )


def _context_findings(text: str) -> list[str]:
    kinds, consumed = [], 0
    for hit in _WORD.finditer(text):
        if hit.start() < consumed:
            continue
        start, end, short = _word_at(text, hit.start(), hit.end())
        consumed = end
        cjk = bool(_CJK_WORD.match(text[hit.start()]))
        if not cjk and not (short and _is_key(text[start:end])):
            continue
        window = text[end : end + JOIN_WINDOW]
        joined = _JOINER.match(window)
        value = _VALUE.match(window, joined.end() if joined else 0)
        if value is not None and looks_like_credential(value.group()):
            kinds.append("cjk_credential" if cjk else "credential_assignment")
            consumed = end + value.end()
    return kinds


def _credential_in_first_group(found) -> bool:
    return bool(found.group(1)) and looks_like_credential(found.group(1))


def _credential_option(found) -> bool:
    return _is_key(found.group(1)) and not found.group(2).startswith("-") and looks_like_credential(found.group(2))


def _url_password(found) -> bool:
    password = found.group(1)
    return bool(password) and NEUTRAL not in password and not password.startswith("$") and not _PORT.match(password)


# Each pattern with what it finds and how its match is judged; one pass tells which occur at all.
_VALUE_READERS = [
    (_OPTION_VALUE, "command_line_credential", _credential_option),
    *((pattern, "command_line_credential", _credential_in_first_group) for pattern in _SHORT_OPTIONS),
    *(
        (pattern, "command_line_credential", _credential_in_first_group)
        for pattern in (_USER_AND_SECRET, _POSITIONAL, _CHPASSWD, _HERE_STRING)
    ),
    (_PGPASS, "credential_assignment", _credential_in_first_group),
    (_SQL, "credential_assignment", _credential_in_first_group),
    (_URL_PASSWORD, "url_password", _url_password),
]
_VALUE_SET = PatternSet([pattern.pattern for pattern, _, _ in _VALUE_READERS])


def _kubernetes_values(text: str) -> int:
    """Values under a Secret's data or stringData: YAML lines deeper than the ``data:`` line, or the
    entries of the JSON object."""
    if not _K8S_SECRET.search(text):
        return 0
    # Only the documents (``---`` apart) that are Secrets: a ConfigMap beside one keeps its data.
    bounds = [0, *(separator.start() for separator in _DOCUMENT.finditer(text)), len(text)]
    secrets = {n for n in range(len(bounds) - 1) if _K8S_SECRET.search(text, bounds[n], bounds[n + 1])}
    found = 0
    for data in _K8S_DATA.finditer(text):
        if bisect.bisect_right(bounds, data.start()) - 1 not in secrets:
            continue
        if data.group(1) is None:
            block = text[data.end() : data.end() + 8192]
            block = block[: block.find("}") + 1 or len(block)]
            values = [entry.group(1) for entry in _JSON_ENTRY.finditer(block)]
        else:
            values = _yaml_block_values(text[data.end() + 1 : data.end() + 8192], len(data.group(1)))
        found += sum(1 for value in values if value and value.strip() and NEUTRAL not in value)
    return found


def _yaml_block_values(block: str, indent: int) -> list[str]:
    values = []
    for line in block.split("\n"):
        content = line.lstrip(" \t")
        if not content.strip():
            continue
        if len(line) - len(content) <= indent:
            break
        key, colon, value = content.partition(":")
        if colon and value.strip() and value.strip() not in ("|", ">", "|-", ">-"):
            values.append(value.strip().strip("'\""))
    return values


def text_findings(text: str, shapes: bool = True, context: bool = True, tokens: bool = True) -> list[str]:
    """Kinds of secret-like strings in ``text``; the flags skip the parts a prefilter ruled out."""
    text = _fold(text)
    kinds: list[str] = []
    if shapes:
        for index in _SHAPE_SET.matching(text):
            kind, pattern = _SHAPES[index]
            kinds += [kind] * sum(1 for _ in pattern.finditer(text))
    if context:
        kinds += _context_findings(text)
        for index in _VALUE_SET.matching(text):
            pattern, kind, is_credential = _VALUE_READERS[index]
            kinds += [kind for found in pattern.finditer(text) if is_credential(found)]
        kinds += ["kubernetes_secret"] * _kubernetes_values(text)
    if tokens:
        kinds += [
            "high_entropy"
            for found in _LONG_TOKEN.finditer(text)
            if len(found.group()) <= LONG_TOKEN_MAX
            and looks_random(found.group())
            and not _DIGEST_NAMED.search(text[max(0, found.start() - 24) : found.start()])
        ]
    return kinds


def prefilter(columns: Sequence[pa.Array]) -> list[np.ndarray]:
    """For each column, what the prefilters say of each row: a rows × ``PREFILTERS`` boolean array
    (which parts of ``text_findings`` the row needs; none: the row holds nothing to find). Arrow
    work that releases the GIL, so it can run ahead on another thread."""
    joined, bounds = joined_columns(columns)
    flags = _prefiltered(joined)
    return [flags[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


def refreshed(flags: np.ndarray, before: pa.Array, after: pa.Array) -> np.ndarray:
    """``flags`` of the texts ``before``, made true of ``after``: the rows whose text changed are
    looked at again, the others are what the prefilters already saw."""
    changed = np.flatnonzero(pc.not_equal(before, after).fill_null(False).to_numpy(zero_copy_only=False))
    if not len(changed):
        return flags
    flags = flags.copy()
    flags[changed] = _prefiltered(after.take(pa.array(changed)))
    return flags


def _prefiltered(column: pa.Array) -> np.ndarray:
    flags = np.zeros((len(column), len(PREFILTERS)), dtype=bool)
    if pa.types.is_null(column.type):
        return flags
    candidates = on_slices(lambda part: pc.match_substring_regex(part, pattern=CANDIDATE), column)
    indices = pc.indices_nonzero(candidates.fill_null(False))
    if not len(indices):
        return flags
    rows = column.take(indices)
    needs = {
        name: pc.match_substring_regex(rows, pattern=p).to_numpy(zero_copy_only=False) for name, p in PREFILTERS.items()
    }
    if needs["tokens"].any():
        long_mixed = np.flatnonzero(needs["tokens"])
        needs["tokens"][long_mixed] = _has_long_mixed_token(rows.take(pa.array(long_mixed)))
    flags[indices.to_numpy()] = np.column_stack(list(needs.values()))
    return flags


def scan_columns(columns: Sequence[pa.Array], flags: Sequence[np.ndarray] | None = None) -> list[dict[int, list[str]]]:
    """For each column, row index -> the kinds found in it, for the rows that hold anything. The
    prefilters run over the columns as one (each compiles once, and the rows split over the cores).
    ``flags``: ``prefilter`` of these texts, when it was found ahead."""
    if flags is None:
        flags = prefilter(columns)
    return [scan_rows(column, column_flags) for column, column_flags in zip(columns, flags, strict=True)]


def scan_rows(column: pa.Array, flags: np.ndarray | None = None) -> dict[int, list[str]]:
    """Row index -> the kinds found in it, for the rows of one text column that hold anything."""
    if flags is None:
        flags = _prefiltered(column)
    closer = np.flatnonzero(flags.any(axis=1))
    if not len(closer):
        return {}
    texts = column.take(pa.array(closer)).to_pylist()
    found = {}
    for text, row in zip(texts, closer.tolist(), strict=True):
        if kinds := text_findings(text, *flags[row].tolist()):
            found[row] = kinds
    return found


def scan_batch(
    columns: Sequence[pa.Array],
    first_line: int,
    report: ScanReport,
    evidence_ids: pa.Array | None = None,
    flags: Sequence[np.ndarray] | None = None,
) -> None:
    """Scans the text columns of a batch whose first row is line ``first_line`` of the file."""
    for found in scan_columns(columns, flags):
        for row, kinds in sorted(found.items()):
            evidence_id = evidence_ids[row].as_py() if evidence_ids is not None else None
            for kind in kinds:
                report.add(first_line + row, kind, evidence_id)


def _has_long_mixed_token(rows: pa.Array) -> np.ndarray:
    """Which rows hold a run of token characters as long as a long token with an upper-case letter and
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
