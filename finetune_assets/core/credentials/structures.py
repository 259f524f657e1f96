"""Secrets whose place a structure gives, whatever their key: the password in a URL's user
information, the last field of a ``.pgpass`` line, every value under a Kubernetes Secret's ``data`` or
``stringData`` (YAML or JSON)."""

from collections.abc import Iterator

from re2 import compile as re2_compile

from .finding import Finding
from .shapes import looks_like_credential, never_a_secret
from .text_view import TextView
from .values import QUOTES, value_at

ENTRY_WINDOW = 8192

_SCHEME = re2_compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_URL_STOP = re2_compile(r"[\s<>`]")
_PORT = re2_compile(r"\d{1,5}(?:[/?#].*)?")
_PGPASS = re2_compile(
    r"(?m)(?:^|[ \t'\"=])"
    r"(?:[A-Za-z0-9*][A-Za-z0-9.\-*]*|\[[0-9A-Fa-f:.]+\]):(?:\d{1,5}|\*)"
    r":(?P<database>[A-Za-z0-9_*][A-Za-z0-9_.\-*]*):(?P<user>[A-Za-z0-9_*][A-Za-z0-9_.\-@*]*)"
    r":(?P<secret>(?:\\.|[^\s\\])+)"
)
_SECRET_KIND_YAML = re2_compile(r"(?m)^[ \t-]*kind:[ \t]*[\"']?Secret[\"']?[ \t]*\r?$")
_SECRET_KIND_JSON = re2_compile(r"\"kind\"\s*:\s*\"Secret\"")
_DATA_LINE = re2_compile(r"[ \t]*(?:data|stringData):[ \t]*\r?")
_ENTRY_LINE = re2_compile(r"[ \t]*[\"']?[\w.-]+[\"']?:[ \t]*")
_DATA_OBJECT = re2_compile(r"\"(?:data|stringData)\"\s*:\s*\{")
_JSON_ENTRY = re2_compile(r"\s*\"(?:[^\"\\]|\\.)*\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"\s*,?")
_BLOCK_INDICATORS = ("|", ">", "|-", ">-", "|+", ">+")


def url_findings(view: TextView) -> Iterator[Finding]:
    """``scheme://user:password@host``: the password runs to the last ``@`` before the host, whatever it
    holds (``/``, ``@``, ``#``, ``?``); a lone user part that looks like a token is one too."""
    text, consumed = view.text, 0
    for scheme in _SCHEME.finditer(text):
        if scheme.start() < consumed:
            continue
        begin = scheme.end()
        enclosing = text[scheme.start() - 1] if scheme.start() and text[scheme.start() - 1] in "\"'" else ""
        end = _url_end(view, begin, enclosing)
        consumed = end
        at = _userinfo_end(text, begin, end)
        if at is None:
            continue
        userinfo = text[begin:at]
        colon = userinfo.find(":")
        if colon < 0:
            if len(userinfo) >= 16 and not any(c in userinfo for c in "/?#=") and looks_like_credential(userinfo):
                yield Finding(begin, at, "url_credentials")
            continue
        user, password = userinfo[:colon], userinfo[colon + 1 :]
        if any(c in user for c in "/?#") or _PORT.fullmatch(password[:64]) or never_a_secret(password):
            continue
        yield Finding(begin + colon + 1, at, "url_credentials")


def _url_end(view: TextView, begin: int, enclosing: str) -> int:
    text, window = view.text, 256
    while True:
        piece = text[begin : begin + window]
        stop = _URL_STOP.search(piece)
        quote = piece.find(enclosing) if enclosing else -1
        ends = [at for at in (stop.start() if stop else -1, quote) if at >= 0]
        if ends:
            return begin + min(ends)
        if begin + window >= len(text):
            return len(text)
        window *= 4


def _userinfo_end(text: str, begin: int, end: int) -> int | None:
    """The last ``@`` of the URL that a host follows."""
    at = text.rfind("@", begin, end)
    while at > begin:
        following = text[at + 1 : at + 2]
        if following and (following.isalnum() or following == "["):
            return at
        at = text.rfind("@", begin, at)
    return None


def pgpass_findings(view: TextView) -> Iterator[Finding]:
    """``hostname:port:database:username:password``."""
    groups = _PGPASS.groupindex
    for line in _PGPASS.finditer(view.text):
        database, user, secret = (line.group(groups[name]) for name in ("database", "user", "secret"))
        if not any(c.isalpha() or c == "*" for c in database) or not any(c.isalpha() or c == "*" for c in user):
            continue
        if not never_a_secret(secret):
            yield Finding(*line.span(groups["secret"]), "password")


def kubernetes_findings(view: TextView) -> Iterator[Finding]:
    if _SECRET_KIND_YAML.search(view.text):
        yield from _yaml_secret_data(view)
    if _SECRET_KIND_JSON.search(view.text):
        yield from _json_secret_data(view)


def _yaml_secret_data(view: TextView) -> Iterator[Finding]:
    """Every value under ``data:`` or ``stringData:`` of a document whose kind is Secret, including the
    lines of a multi-line value (``key: |``). Documents are split at ``---``."""
    text = view.text
    for start, end in _documents(view):
        if not _SECRET_KIND_YAML.search(text[start:end]):
            continue
        block = multiline = None  # indentation of the data: line, of a key whose value spans lines
        position = start
        while position < end:
            stop = min(view.line_end(position), end)
            line = text[position:stop]
            content = line.lstrip(" \t")
            indent = len(line) - len(content)
            if content.strip():
                if multiline is not None and indent > multiline:
                    yield Finding(position + indent, position + len(line.rstrip()), "kubernetes_secret")
                else:
                    multiline = None
                    if _DATA_LINE.fullmatch(line):
                        block = indent
                    elif block is not None and indent > block:
                        finding, multiline = _data_entry(view, position, line, indent)
                        if finding is not None:
                            yield finding
                    else:
                        block = None
            position = stop + 1


def _data_entry(view: TextView, position: int, line: str, indent: int) -> tuple[Finding | None, int | None]:
    entry = _ENTRY_LINE.match(line)
    if entry is None:
        return None, None
    value_start = position + entry.end()
    raw = line[entry.end() :].rstrip()
    if raw in _BLOCK_INDICATORS:
        return None, indent
    if not raw or raw.startswith("[REDACTED:"):
        return None, None
    span = value_at(view, value_start) if raw[0] in QUOTES else None
    start, end = (span.start, span.end) if span else (value_start, value_start + len(raw))
    return Finding(start, end, "kubernetes_secret"), None


def _documents(view: TextView) -> Iterator[tuple[int, int]]:
    text, start, position = view.text, 0, 0
    while position < len(text):
        stop = view.line_end(position)
        if text[position:stop].rstrip() == "---":
            yield start, position
            start = stop + 1
        position = stop + 1
    yield start, len(text)


def _json_secret_data(view: TextView) -> Iterator[Finding]:
    """``"data": {"key": "value", …}`` of a Secret in JSON (``kubectl get secret -o json``)."""
    text = view.text
    for data in _DATA_OBJECT.finditer(text):
        position = data.end()
        while True:
            entry = _JSON_ENTRY.match(text[position : position + ENTRY_WINDOW])
            if entry is None:
                break
            if entry.group(1) and not entry.group(1).startswith("[REDACTED:"):
                yield Finding(position + entry.start(1), position + entry.end(1), "kubernetes_secret")
            position += entry.end()
