"""Where a value in a credential position starts and where it truly ends: its closing quote (escapes
honoured), its closing bracket, the end of its token, or, where the syntax allows spaces in a bare
value (a YAML, INI or .env line), the end of its line; and a YAML block scalar or a value on the
next, deeper-indented line. Never half a value.

Each function reads forward from a position through the value it finds and no further (brackets and
lookaheads within a bounded window), and RE2 only ever sees a slice of that size, so a caller that
moves on past what it read costs time linear in the text.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from re2 import compile as re2_compile

from .text_view import TextView

QUOTES = {'"': '"', "'": "'", "`": "`", "「": "」", "『": "』", "“": "”", "‘": "’"}
BRACKETS = {"{": "}", "[": "]", "(": ")", "<": ">"}
PLACEHOLDER = "[REDACTED:"
BRACKET_WINDOW = 4096
LOOKAHEAD = 80
# A key with its separator right after a list separator: where a bare value gives way to the next
# entry (``Pwd=p;Database=x``, ``?token=t&user=u``, ``password=p,uid=0``).
_NEXT_ENTRY = re2_compile(r"[ \t]*[A-Za-z_][A-Za-z0-9_.\-]{0,63}[ \t]*[=:]")
_ASSIGNMENT_WORD = re2_compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}[=:]")
_SPACE = re2_compile(r"\s")
# A shell word: quoted parts, escapes and other characters up to white space.
SHELL_WORD = re2_compile(r"""(?:'[^'\n]*'?|"(?:[^"\\\n]|\\.)*"?|\\.|[^\s'"\\])+""")
WORD_LIMIT = 4096
# What a JSON or YAML flow object starts with: a quoted key and a colon, or a key, a colon and a space.
_STRUCTURE = re2_compile(r"""\s*(?:\{|\[|["'][^"'\n]{1,64}["']\s*:|[\w.-]{1,64}:\s)""")
# Characters at which a bare value may end, depending on what follows; CJK text and full-width
# punctuation end it outright (a password is not written in ideographs).
_CJK = r"\x{3000}-\x{30ff}\x{3400}-\x{9fff}\x{ac00}-\x{d7af}\x{ff01}-\x{ff1f}"
_STOP_CANDIDATE = re2_compile(rf"""[,;&#<)\]}}"'\\{_CJK}]""")
_CJK_STOP = re2_compile(f"[{_CJK}]")
_BLOCK_INDICATOR = re2_compile(r"[|>][-+0-9]{0,2}[ \t]*(?:#.*)?")
_MAPPING_LINE = re2_compile(r"""(?:-[ \t]+)?["']?[A-Za-z0-9_.\-/]+["']?[ \t]*:(?:[ \t]|$)""")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def closing_quote(view: TextView, opening: int) -> int | None:
    """Where the quote opened at ``opening`` closes on its line: a backslash escapes the next
    character in a double-quoted value, two single quotes are one in YAML."""
    text = view.text
    quote, close = text[opening], QUOTES[text[opening]]
    end = view.line_end(opening)
    position = opening + 1
    while position < end:
        found = text.find(close, position, end)
        if found < 0:
            return None
        if quote == '"' and _escaped(text, opening + 1, found):
            position = found + 1
            continue
        if quote == "'" and text.startswith("''", found) and found + 2 < end:
            position = found + 2
            continue
        # Most languages escape a single quote with a backslash, a shell does not: an escaped quote
        # closes the value only when no other quote follows on the line.
        if quote == "'" and _escaped(text, opening + 1, found) and text.find(close, found + 1, end) >= 0:
            position = found + 1
            continue
        return found
    return None


def _escaped(text: str, start: int, position: int) -> bool:
    backslashes = 0
    while position - backslashes - 1 >= start and text[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def closing_bracket(view: TextView, opening: int) -> int | None:
    """Where the bracket opened at ``opening`` closes on its line (within a window), nested brackets
    of its kind counted; ``}}`` inside braces is an escaped brace (ODBC)."""
    text = view.text
    open_char, close_char = text[opening], BRACKETS[text[opening]]
    end = min(view.line_end(opening), opening + BRACKET_WINDOW)
    depth, position = 1, opening + 1
    while position < end:
        next_close = text.find(close_char, position, end)
        if next_close < 0:
            return None
        depth += text.count(open_char, position, next_close)
        if open_char == "{" and text.startswith("}}", next_close):
            position = next_close + 2
            continue
        depth -= 1
        if not depth:
            return next_close
        position = next_close + 1
    return None


def value_at(view: TextView, position: int, line_value: bool = False, url_query: bool = False) -> Span | None:
    """The value that starts at ``position``: inside its quotes or brackets, else a bare token.
    ``line_value``: a bare value may hold spaces up to the end of the line (YAML, INI, .env lines).
    ``url_query``: the value ends at ``&`` or ``#``. None where nothing is there, or a placeholder."""
    text = view.text
    if position >= len(text) or text.startswith(PLACEHOLDER, position):
        return None
    char = text[position]
    if text.startswith('\\"', position):
        close = text.find('\\"', position + 2, view.line_end(position))
        end = close if close >= 0 else token_end(view, position + 2)
        return _inner(text, position + 2, end)
    if char in QUOTES:
        close = closing_quote(view, position)
        if close is not None and char in "'\"" and text[close + 1 : close + 2] in ("\\", "'", '"'):
            # The quoted part goes on as one shell word ('it'\''s'): the value is the whole word.
            word = SHELL_WORD.match(text[position : position + WORD_LIMIT])
            end = position + word.end()
            return _inner(text, position + 1, end - 1 if text[end - 1] in "'\"" else end)
        return _inner(text, position + 1, close if close is not None else view.line_end(position))
    if char in BRACKETS and not text.startswith("</", position):
        close = closing_bracket(view, position)
        if close is not None and char in "{[" and _STRUCTURE.match(text[position + 1 : position + 1 + LOOKAHEAD]):
            return None  # a nested object or list: its own keys name its values
        if close is not None:
            return _inner(text, position + 1, close)
    if char.isspace():
        return None
    return bare_value(view, position, line_value, url_query)


def _inner(text: str, start: int, end: int) -> Span | None:
    if end <= start or text.startswith(PLACEHOLDER, start):
        return None
    return Span(start, end)


def token_end(view: TextView, position: int) -> int:
    """The end of the run of non-space characters at ``position``, looked for in growing windows."""
    run_start, run_end = view.last_token
    if run_start <= position <= run_end:
        return run_end
    text, window, end = view.text, 256, len(view.text)
    while True:
        piece = text[position : position + window]
        found = _SPACE.search(piece)
        if found is not None:
            end = position + found.start()
            break
        if position + window >= len(text):
            break
        window *= 4
    view.last_token[:] = [position, end]
    return end


def bare_value(view: TextView, start: int, line_value: bool = False, url_query: bool = False) -> Span | None:
    """A value without quotes: its token, cut where the token goes on into something else."""
    text = view.text
    end_of_token = token_end(view, start)
    end = _cut(text, start, end_of_token, url_query)
    if end <= start:
        return None
    value = text[start:end]
    if value.endswith(":") and len(value) <= 66 and _ASSIGNMENT_WORD.fullmatch(value):
        return None  # a nested key (``auth: enabled: true``), not a value
    if line_value and end == end_of_token:
        end = _through_line(view, end)
    return Span(start, end)


def _cut(text: str, start: int, end: int, url_query: bool) -> int:
    """Where a value ends inside its token, read in growing windows: most values end early, and a
    slice to the token's end would cost the token's length for every key inside it."""
    depth, counted = 0, start
    for at in _stop_candidates(text, start, end):
        depth += sum(text.count(opening, counted, at) for opening in "([{")
        counted = at + 1
        char = text[at]
        following = text[at + 1] if at + 1 < end else ""
        if _CJK_STOP.match(char):
            return at
        if char in ",;&" and (url_query and char == "&" or _NEXT_ENTRY.match(text[at + 1 : at + 1 + LOOKAHEAD])):
            return at
        if (char == ";" and following in ("", '"', "'")) or (char == "#" and url_query):
            return at
        if char == "<" and following == "/":
            return at
        if char in ")]}":
            if depth == 0 and (following == "" or following in ",;)]}\"'."):
                return at
            depth = max(0, depth - 1)
        if char in "\"'" and at > start and (following == "" or following in ",;)]}/>"):
            return at
        if char == "\\" and following in ("n", "r", "t", '"'):
            return at
    return end


def _stop_candidates(text: str, start: int, end: int) -> Iterator[int]:
    window, scanned = 256, start
    while scanned < end:
        stop = min(end, scanned + window)
        for found in _STOP_CANDIDATE.finditer(text[scanned:stop]):
            yield scanned + found.start()
        scanned, window = stop, window * 4


def _through_line(view: TextView, end: int) -> int:
    """Past the token, through the rest of its line: up to a comment (`` #``) or another assignment."""
    text = view.text
    stop = view.line_end(end)
    reach, position = end, end
    while position < stop:
        while position < stop and text[position] in " \t\r":
            position += 1
        if position >= stop:
            break
        word_end = min(token_end(view, position), stop)
        word = text[position:word_end]
        if word.startswith("#") or _ASSIGNMENT_WORD.match(word[:LOOKAHEAD]):
            break
        reach = position = word_end
    return reach


def is_block_indicator(view: TextView, position: int) -> bool:
    end = view.line_end(position)
    found = _BLOCK_INDICATOR.fullmatch(view.text[position:end].rstrip("\r")) if end - position < 64 else None
    return found is not None


def block_lines(view: TextView, after_line: int, column: int, scalar_only: bool) -> list[Span]:
    """The lines after the line ending at ``after_line`` that are indented deeper than ``column``:
    a YAML block scalar (``key: |``) or, with ``scalar_only``, a plain value on the next lines, which
    ends at the first line that is a mapping entry or a list item."""
    text, spans = view.text, []
    position, first_indent = after_line + 1, None
    while position < len(text):
        end = view.line_end(position)
        line = text[position:end]
        content = line.lstrip(" \t")
        if not content.strip():
            position = end + 1
            continue
        indent = len(line) - len(content)
        if indent <= column or (first_indent is not None and indent < first_indent):
            break
        first_indent = indent if first_indent is None else first_indent
        if scalar_only and (_MAPPING_LINE.match(content[:LOOKAHEAD]) or content.startswith(("- ", PLACEHOLDER, "#"))):
            break
        spans.append(Span(position + indent, position + len(line.rstrip())))
        position = end + 1
    return spans
