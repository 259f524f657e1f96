"""Values named by their key, in whatever syntax carries them.

A credential word (``credentials.keys``) anywhere in a key, the separator a config or prose uses
(``=``, ``:``, ``=>``, ``:=``, white space, ``is``), then the value to its true end (``values``): YAML
with block scalars and values on the next indented line, JSON with escaped quotes, XML elements and
attributes, INI/TOML/HCL/.env, query strings, conninfo and ODBC strings, Ruby and PHP hashes, SQL's
``PASSWORD '…'`` and ``IDENTIFIED BY '…'``, and the same key words in Chinese, Japanese and Korean.
A key that is itself a value (``- name: DB_PASSWORD`` then ``value: …``, ``<add key="DbPassword"
value="…"/>``) names the value that follows it.
"""

from collections.abc import Iterator

from re2 import compile as re2_compile

from .finding import Finding
from .keys import PAIRS, STRONG, KeyReading, read_key
from .shapes import looks_like_credential, never_a_secret
from .text_view import TextView
from .values import QUOTES, Span, block_lines, is_block_indicator, token_end, value_at

KEY_LIMIT = 128
PAIR_FIRST_WORDS = frozenset(first for first, _ in PAIRS)
COOKIE_ATTRIBUTES = frozenset("path domain expires max-age samesite secure httponly priority partitioned".split())
LOOKAHEAD = 80
NAMED_VALUE_WINDOW = 256
XML_TAG_WINDOW = 512
XML_CONTENT_WINDOW = 4096

_KEY_ANCHOR = re2_compile(r"(?i)pass|pwd|pw|secret|token|key|auth|cred|cookie|sess|sid|communit|psk|sig")
CJK_KEYS = (
    "密碼|密码|口令|密鑰|密钥|金鑰|金钥|秘鑰|秘钥|私鑰|私钥|令牌|憑證|凭证|憑據|凭据|通行碼|通行码|"
    "パスワード|暗証番号|秘密鍵|トークン|비밀번호|암호|토큰|인증키|패스워드"
)
_CJK_KEY = re2_compile(CJK_KEYS)
_CJK_PARTICLE = re2_compile(r"[ \t]*(?:是|為|为|は|는|은|이|가|が|を)[ \t]*(?::|=)?[ \t]*")
_PROSE = re2_compile(r"(?i)(?:is|was|are|were|equals|is set to|was set to|set to)[ \t]+")
_CONFIG_PREFIX = re2_compile(r"[ \t]*(?:(?:-|export|set|setx|env|#|//|;)[ \t]*)*")
_NAMED = re2_compile(
    r"""(?i)(?:name|key|id|property|param|parameter|variable|var|env|field|setting)\\?["']?[ \t]*[:=][ \t]*\\?["']?$"""
)
_VALUE_OR_NEXT_NAME = re2_compile(r"""(?i)\b(?:(value)\\?["']?[ \t]*[:=][ \t]*|(?:name|key)\\?["']?[ \t]*[:=])""")
_SQL_IDENTIFIED = re2_compile(r"(?i)\bidentified[ \t]+(?:with[ \t]+\S+[ \t]+)?by[ \t]+(?:password[ \t]+)?")
_ASSIGNMENT = re2_compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}[=:]")
_AUTH_SCHEME = re2_compile(r"(?i)(?:bearer|basic|token|digest|negotiate|ntlm|hoba|mutual|aws4-hmac-sha256)[ \t]+")
_COOKIE_PAIR = re2_compile(r"[ \t]*([A-Za-z0-9_.!#$%'*+^`|~-]{1,64})=([^;\s]*)[ \t]*;?")
_YAML_TAG = re2_compile(r"!{1,2}[A-Za-z0-9_/:.-]*[ \t]+")


def _is_identifier_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "_.-")


def _identifier(view: TextView, start: int, end: int) -> tuple[int, int, bool]:
    """The key around an anchor: (start, end, whether it is short enough to be a key)."""
    text = view.text
    begin = start
    while begin > 0 and start - begin < KEY_LIMIT and _is_identifier_char(text[begin - 1]):
        begin -= 1
    finish = end
    while finish < len(text) and finish - begin <= KEY_LIMIT and _is_identifier_char(text[finish]):
        finish += 1
    if finish - begin > KEY_LIMIT or (begin > 0 and _is_identifier_char(text[begin - 1])):
        return begin, max(finish, token_end(view, finish)), False
    while begin < finish and text[begin] in "-.":
        begin += 1
    while finish > begin and text[finish - 1] in "-.":
        finish -= 1
    return begin, finish, True


def _with_first_word(text: str, start: int) -> int:
    """``access key``, ``api key``: a key of two words apart, when the first one makes the pair."""
    if start < 2 or text[start - 1] != " ":
        return start
    begin = start - 1
    while begin > 0 and start - 1 - begin < 16 and text[begin - 1].isascii() and text[begin - 1].isalpha():
        begin -= 1
    return begin if text[begin : start - 1].lower() in PAIR_FIRST_WORDS else start


def keyed_findings(view: TextView) -> Iterator[Finding]:
    text, consumed = view.text, 0
    for anchor in _KEY_ANCHOR.finditer(text):
        if anchor.start() < consumed:
            continue
        start, end, is_key = _identifier(view, anchor.start(), anchor.end())
        consumed = max(consumed, end)
        start = _with_first_word(text, start)
        before = text[start - 1] if start else ""
        if not is_key or (before and before in "/\\$%@"):  # a path, a variable's use, an address
            continue
        reading = read_key(text[start:end])
        if reading is None:
            continue
        for span in _value_after(view, start, end, reading, url_query=bool(before) and before in "?&"):
            consumed = max(consumed, span.end)
            yield Finding(span.start, span.end, reading.kind)
    yield from _cjk_findings(view)
    yield from _sql_findings(view)


def _opening_quote(text: str, start: int) -> str:
    if text[max(0, start - 2) : start] == '\\"':
        return '\\"'
    return text[start - 1] if start and text[start - 1] in "\"'`" else ""


def _value_after(view: TextView, start: int, end: int, reading: KeyReading, url_query: bool) -> list[Span]:
    text = view.text
    if start and text[start - 1] == "<" and not text[max(0, start - 2) : start] == "</":
        return _xml_element(view, end, reading)
    opening = _opening_quote(text, start)
    position = end + len(opening) if opening and text.startswith(opening, end) else end
    after_key = position
    while position < len(text) and position - after_key < 16 and text[position] in " \t":
        position += 1
    column = start - len(opening) - view.line_start(start)
    # A config line: the key first on its line (after indentation, a list dash, ``export``…).
    config_line = column <= 64 and bool(
        _CONFIG_PREFIX.fullmatch(text[start - len(opening) - column : start - len(opening)])
    )
    spaced = position > after_key
    if text.startswith(("=>", ":=", "=="), position):
        return _assigned(view, position + 2, reading, column, config_line and spaced, url_query, colon=False)
    if position < len(text) and text[position] in ":=" and not text.startswith(("::", "://"), position):
        colon = text[position] == ":"
        # A bare value runs to the end of a YAML line, or of an INI line (``key = value``); in a shell or
        # .env assignment (``KEY=value``) it ends at its token.
        line_value = config_line and (colon or spaced)
        return _assigned(view, position + 1, reading, column, line_value, url_query, colon)
    if not spaced and text.startswith("(", position):
        inner = position + 1
        span = value_at(view, inner) if inner < len(text) and text[inner] in QUOTES else None
        return _kept(text, span, strong=True)
    if named := _named_value(view, start, end, reading):
        return named
    if opening or not spaced or position >= len(text) or text[position] in "\r\n":
        return []
    if prose := _PROSE.match(text[position : position + 24]):
        return _kept(text, value_at(view, position + prose.end()), prose=True)
    span = value_at(view, position)
    if span is None or _ASSIGNMENT.match(text[span.start : span.start + 66]):
        return []
    quoted = text[position] in QUOTES
    two_word_line = config_line and text[span.end : view.line_end(span.end)].strip() == ""
    return _kept(text, span, strong=reading.strength == STRONG and (quoted or two_word_line), prose=True)


def _assigned(
    view: TextView, position: int, reading: KeyReading, column: int, line_value: bool, url_query: bool, colon: bool
) -> list[Span]:
    text = view.text
    while position < len(text) and text[position] in " \t":
        position += 1
    if tag := _YAML_TAG.match(text[position : position + 64]):
        position += tag.end()
    if reading.kind == "credentials" and (scheme := _AUTH_SCHEME.match(text[position : position + 32])):
        position += scheme.end()  # ``Authorization: Bearer …``: the scheme stays, its credentials go
    strong = reading.strength == STRONG or url_query
    if position >= len(text) or text[position] in "\r\n":
        if not colon:
            return []
        return _next_lines(view, view.line_end(position), column, strong)
    if colon and is_block_indicator(view, position):
        return [span for span in block_lines(view, view.line_end(position), column, False)]
    if reading.kind == "session" and not url_query and _COOKIE_PAIR.match(text[position : position + LOOKAHEAD]):
        return _cookie_values(view, position)
    span = value_at(view, position, line_value=line_value, url_query=url_query)
    return _kept(text, span, strong=strong)


def _cookie_values(view: TextView, position: int) -> list[Span]:
    """``Cookie: a=1; b=2`` and ``Set-Cookie: id=…; Path=/``: each cookie's value, not the attributes."""
    text, end = view.text, view.line_end(position)
    spans = []
    for pair in _COOKIE_PAIR.finditer(text[position:end]):
        if pair.group(1).lower() not in COOKIE_ATTRIBUTES and pair.group(2):
            spans.append(Span(position + pair.start(2), position + pair.end(2)))
    return [span for span in spans if not never_a_secret(text[span.start : span.end], strong=False)]


def _next_lines(view: TextView, line_end: int, column: int, strong: bool) -> list[Span]:
    """``password:`` with the value on the next, deeper-indented line(s), quoted or plain."""
    text = view.text
    position = line_end + 1
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    if position >= len(text) or position - view.line_start(position) <= column:
        return []
    if text[position] in QUOTES:
        return _kept(text, value_at(view, position), strong=strong)
    spans = block_lines(view, line_end, column, scalar_only=True)
    return [span for span in spans if _kept(text, span, strong=strong)]


def _kept(text: str, span: Span | None, strong: bool = True, prose: bool = False) -> list[Span]:
    """The span, if its value is one: after a strong key anything but a shape no secret has; after a
    weak key, prose or white space alone, only what looks like a credential."""
    if span is None:
        return []
    value = text[span.start : span.end].strip()
    if prose or not strong:
        return [span] if looks_like_credential(value) else []
    return [] if never_a_secret(value, strong=True) else [span]


def _named_value(view: TextView, start: int, end: int, reading: KeyReading) -> list[Span]:
    """A key given as a value (``name: DB_PASSWORD``, ``key="DbPassword"``): the ``value`` that follows."""
    text = view.text
    line_start = view.line_start(start)
    if not _NAMED.search(text[max(line_start, start - 48) : start]):
        return []
    window = text[end : end + NAMED_VALUE_WINDOW]
    found = _VALUE_OR_NEXT_NAME.search(window)
    if found is None or found.group(1) is None:
        return []
    span = value_at(view, end + found.end())
    return _kept(text, span, strong=reading.strength == STRONG)


def _xml_element(view: TextView, end: int, reading: KeyReading) -> list[Span]:
    """``<password>…</password>``, ``<db.password><![CDATA[…]]></db.password>``, ``<password value="…"/>``."""
    text = view.text
    close_tag = text.find(">", end, end + XML_TAG_WINDOW)
    if close_tag < 0:
        return []
    attributes = text[end:close_tag]
    if attributes.endswith("/"):
        at = attributes.find("value=")
        return [] if at < 0 else _kept(text, value_at(view, end + at + 6), strong=reading.strength == STRONG)
    closing = text.find("</", close_tag + 1, close_tag + 1 + XML_CONTENT_WINDOW)
    if closing < 0:
        return []
    content_start, content_end = close_tag + 1, closing
    content = text[content_start:content_end]
    stripped = content.strip()
    if stripped.startswith("<![CDATA[") and stripped.endswith("]]>"):
        content_start = text.find("<![CDATA[", content_start) + 9
        content_end = text.rfind("]]>", content_start, content_end)
    elif "<" in content:
        return []  # child elements, not a value
    while content_start < content_end and text[content_start].isspace():
        content_start += 1
    while content_end > content_start and text[content_end - 1].isspace():
        content_end -= 1
    return _kept(text, Span(content_start, content_end), strong=reading.strength == STRONG)


def _cjk_findings(view: TextView) -> Iterator[Finding]:
    text, consumed = view.text, 0
    for key in _CJK_KEY.finditer(text):
        if key.start() < consumed:
            continue
        position = key.end()
        window = text[position : position + 32]
        particle = _CJK_PARTICLE.match(window)
        stripped = window.lstrip(" \t")
        if particle and particle.end():
            assigned = window[: particle.end()].rstrip(" \t").endswith((":", "="))
            spans = _kept(text, value_at(view, position + particle.end()), prose=not assigned)
        elif stripped[:1] in (":", "="):
            at = position + (len(window) - len(stripped)) + 1
            while at < len(text) and text[at] in " \t":
                at += 1
            spans = _kept(text, value_at(view, at), strong=True)
        elif stripped and len(stripped) < len(window):
            spans = _kept(text, value_at(view, position + len(window) - len(stripped)), prose=True)
        else:
            spans = _kept(text, value_at(view, position), prose=True) if window[:1] in QUOTES else []
        for span in spans:
            consumed = span.end
            yield Finding(span.start, span.end, "password")


def _sql_findings(view: TextView) -> Iterator[Finding]:
    text = view.text
    for found in _SQL_IDENTIFIED.finditer(text):
        for span in _kept(text, value_at(view, found.end()), strong=True):
            yield Finding(span.start, span.end, "password")
