"""Secrets on command lines: the tools' own options and positional arguments (``command_table``), any
tool's option whose name reads as a credential key (``--db-pass``, ``-storepass``, ``/pass:``), and a
secret piped or here-string'd into a tool that reads it from standard input.

A command is read as a shell reads it (quotes, escapes, line continuations) from the tool's name to
the end of the command, and never further than ``COMMAND_LIMIT`` characters.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from re2 import compile as re2_compile
from re2 import escape as re2_escape

from .command_table import (
    ATTACHED,
    EITHER,
    NEXT,
    STDIN_TOOLS,
    TOOLS,
    USER_COLON_SECRET_STDIN,
    Tool,
    htpasswd_secret,
    sqlplus_secret,
)
from .finding import Finding
from .keys import STRONG, read_key
from .shapes import looks_like_credential, never_a_secret
from .text_view import TextView
from .values import SHELL_WORD, value_at

COMMAND_LIMIT = 1024
ARGUMENT_LIMIT = 32
_SEPARATORS = frozenset({"|", "||", "&&", ";", "&", ")", "`"})
_NAMES = "|".join(re2_escape(name) for name in sorted(TOOLS, key=len, reverse=True))
_TOOL = re2_compile(rf"(?:^|[\s;&|(`'\"/])({_NAMES})(?:\.exe)?[ \t]")
_OPTION = re2_compile(r"""(?:^|[\s'"])(--?[A-Za-z][A-Za-z0-9_.\-]{1,63}|/[A-Za-z][A-Za-z0-9_\-]{0,31}:)""")
_ARGUMENT = r"""'[^'\n]*'|"(?:[^"\\\n]|\\.)*"|[^\s|;&'"]+"""
_STDIN_NAMES = "|".join(STDIN_TOOLS)
_ECHO_PIPE = re2_compile(
    rf"(?:^|[\s;&(`])(echo|printf)[ \t]+(?:-[neE]{{1,3}}[ \t]+)*(?P<a>{_ARGUMENT})(?:[ \t]+(?P<b>{_ARGUMENT}))?"
    rf"[ \t]*\|[ \t]*(?:sudo[ \t]+(?:-[A-Za-z]+[ \t]+)*)?(?:\S*/)?(?P<tool>{_STDIN_NAMES})\b"
)
_HERE_STRING = re2_compile(rf"(?:^|[\s;&|(`/])(?P<tool>{_STDIN_NAMES})\b[^\n|;&]{{0,256}}<<<[ \t]*(?P<a>{_ARGUMENT})")
# What a tool that may also read other input must be told to read a secret from standard input.
_STDIN_MARKER = re2_compile(r"(?:^|\s)(?:--stdin|--password-stdin|--with-token|-S|-s|-i|-)(?:\s|$)")
_ALWAYS_STDIN = frozenset({"chpasswd", "kinit", "cryptsetup"})


@dataclass(frozen=True)
class Argument:
    start: int  # as written, quotes included
    end: int
    inner_start: int  # inside the quotes when the whole argument is quoted
    inner_end: int
    text: str  # as the program receives it


def command_findings(view: TextView) -> Iterator[Finding]:
    yield from _tool_findings(view)
    yield from _option_findings(view)
    yield from _stdin_findings(view)


def arguments(view: TextView, position: int) -> list[Argument]:
    """The arguments from ``position`` to the end of the command: a newline (not escaped), or ``|``,
    ``;``, ``&`` where a shell would read them as the end (alone, or closing a word)."""
    text = view.text
    end = _command_end(text, position)
    found = []
    for word in SHELL_WORD.finditer(text[position:end]):
        raw = word.group()
        start, stop = position + word.start(), position + word.end()
        if raw in _SEPARATORS:
            break
        ends_command = raw[-1] in "|;&)`" and len(raw) > 1 and raw[-2] not in "\\'\""
        if ends_command:
            raw, stop = raw[:-1], stop - 1
        found.append(_argument(raw, start, stop))
        if ends_command or len(found) >= ARGUMENT_LIMIT:
            break
    return found


def _command_end(text: str, position: int) -> int:
    limit = min(len(text), position + COMMAND_LIMIT)
    newline = text.find("\n", position, limit)
    while newline > 0 and text[newline - 1] == "\\":  # a continued line goes on
        newline = text.find("\n", newline + 1, limit)
    return limit if newline < 0 else newline


def _argument(raw: str, start: int, stop: int) -> Argument:
    """The argument as the program receives it: quotes removed, escapes resolved."""
    if len(raw) >= 2 and raw[0] in "'\"" and _closing(raw, 0, len(raw)) == len(raw) - 1:
        inner = raw[1:-1]
        return Argument(start, stop, start + 1, stop - 1, inner.replace('\\"', '"') if raw[0] == '"' else inner)
    pieces, index = [], 0
    while index < len(raw):
        char = raw[index]
        if char in "'\"":
            close = _closing(raw, index, len(raw))
            piece = raw[index + 1 : close]
            pieces.append(piece.replace('\\"', '"') if char == '"' else piece)
            index = close + 1
        elif char == "\\" and index + 1 < len(raw):
            pieces.append(raw[index + 1])
            index += 2
        else:
            pieces.append(char)
            index += 1
    return Argument(start, stop, start, stop, "".join(pieces))


def _closing(text: str, opening: int, limit: int) -> int:
    quote, position = text[opening], opening + 1
    while position < limit and text[position] != "\n":
        if text[position] == "\\" and quote == '"':
            position += 2
            continue
        if text[position] == quote:
            return position
        position += 1
    return min(position, limit)


def _tool_findings(view: TextView) -> Iterator[Finding]:
    text = view.text
    for hit in _TOOL.finditer(text):
        name = hit.group(1)
        tool = TOOLS[name]
        # Most mentions of a tool carry nothing: read the command only if one of its clues is there.
        window = text[hit.end() : hit.end() + COMMAND_LIMIT]
        if not any(clue in window for clue in _clues(name)):
            continue
        args = arguments(view, hit.end())
        yield from _options(tool, args)
        yield from _positional(tool, hit.group(1), args)


@functools.cache
def _clues(name: str) -> tuple[str, ...]:
    """Strings one of which a command of this tool holds if it can hold a secret."""
    tool = TOOLS[name]
    clues = [*tool.options, *(words[0] for words in tool.positional if words), " set ", " SET ", " Set "]
    if name in ("htpasswd", "sqlplus", "wpa_passphrase") or () in tool.positional:
        clues.append(" ")
    return tuple(clues)


def _secret(argument: Argument, offset: int = 0, strong: bool = True, kind: str = "password") -> Finding | None:
    value = argument.text[offset:]
    if strong and never_a_secret(value) or not strong and not looks_like_credential(value):
        return None
    start = (
        argument.inner_start + offset if argument.inner_start + offset < argument.inner_end else argument.inner_start
    )
    return Finding(start, argument.inner_end, kind)


def _options(tool: Tool, args: list[Argument]) -> Iterator[Finding]:
    seen_subcommand = not tool.after
    for index, argument in enumerate(args):
        word = argument.text
        seen_subcommand = seen_subcommand or word.lower() in tool.after
        if not seen_subcommand:
            continue
        for option, mode in tool.options.items():
            following = args[index + 1] if index + 1 < len(args) else None
            separator = tool.user_separator.get(option)
            if word.lower() == option.lower() and mode in (NEXT, EITHER) and following is not None:
                if following.text.startswith("-") and following.text != "-":
                    continue
                offset = following.text.find(separator) + 1 if separator else 0
                if separator and not offset:
                    continue
                if finding := _secret(following, offset, strong=mode == NEXT, kind=tool.kind):
                    yield finding
            elif word.startswith(option + "=") and option.startswith("--"):
                offset = len(option) + 1
                if separator:
                    at = word.find(separator, offset)
                    offset = at + 1 if at >= 0 else 0
                if offset and (finding := _secret(argument, offset, kind=tool.kind)):
                    yield finding
            elif word.startswith(option) and len(word) > len(option) and mode in (ATTACHED, EITHER):
                if not option.startswith("--") and (finding := _attached(argument, len(option), tool.kind)):
                    yield finding


def _attached(argument: Argument, offset: int, kind: str) -> Finding | None:
    value = argument.text[offset:]
    if never_a_secret(value):
        return None
    return Finding(argument.start + offset, argument.end, kind)


def _positional(tool: Tool, name: str, args: list[Argument]) -> Iterator[Finding]:
    words = [argument.text for argument in args]
    if name == "htpasswd" and (index := htpasswd_secret(words)) is not None:
        if finding := _secret(args[index]):
            yield finding
    if name == "sqlplus":
        first = next((a for a in args if not a.text.startswith("-")), None)
        if first is not None and (at := sqlplus_secret(first.text)) and not never_a_secret(first.text[at[0] : at[1]]):
            yield Finding(first.inner_start + at[0], first.inner_start + at[1], "password")
    plain = [argument for argument in args if not argument.text.startswith(("-", "/"))]
    lowered = [argument.text.lower() for argument in plain]
    for subcommand, positions in tool.positional.items():
        after = _after(lowered, subcommand)
        if after is None:
            continue
        for position in positions:
            if after + position < len(plain) and "=" not in plain[after + position].text:
                if finding := _secret(plain[after + position], kind=tool.kind):
                    yield finding
    # ``aws configure set aws_secret_access_key VALUE``, ``redis-cli config set requirepass VALUE``
    for index, word in enumerate(lowered[:-2]):
        reading = read_key(plain[index + 1].text) if word == "set" else None
        if reading is not None and reading.strength == STRONG and (finding := _secret(plain[index + 2])):
            yield Finding(finding.start, finding.end, reading.kind)


def _after(words: list[str], subcommand: tuple[str, ...]) -> int | None:
    if not subcommand:
        return 0
    for start in range(len(words) - len(subcommand) + 1):
        if tuple(words[start : start + len(subcommand)]) == subcommand:
            return start + len(subcommand)
    return None


def _option_findings(view: TextView) -> Iterator[Finding]:
    """Any tool's option named like a credential: ``--password x``, ``--db-pass=x``, ``-storepass x``,
    ``-passin pass:x``, ``/pass:x``."""
    text = view.text
    for hit in _OPTION.finditer(text):
        option = hit.group(1)
        name = option.lstrip("-/").rstrip(":")
        if option.startswith("-") and not option.startswith("--") and len(name) < 3 and name != "pw":
            continue
        if name.lower().startswith("no-"):
            continue
        reading = read_key(name)
        if reading is None:
            continue
        position = hit.end()
        if option.endswith(":") or text.startswith("=", position):
            position += 0 if option.endswith(":") else 1
        else:
            while position < len(text) and position - hit.end() < 8 and text[position] in " \t":
                position += 1
            if position == hit.end() or position >= len(text) or text[position] in "-<>|\n":
                continue
        span = value_at(view, position)
        if span is None:
            continue
        start, value = span.start, text[span.start : span.end]
        if value.startswith("pass:"):  # openssl -passin pass:…
            start, value = start + 5, value[5:]
        weak = reading.strength != STRONG
        if (weak and not looks_like_credential(value)) or (not weak and never_a_secret(value)):
            continue
        yield Finding(start, span.end, reading.kind)


def _stdin_findings(view: TextView) -> Iterator[Finding]:
    """``echo 'u:pw' | chpasswd``, ``printf '%s' pw | passwd --stdin u``, ``kinit <<< pw``."""
    text = view.text
    pipe, here = _ECHO_PIPE.groupindex, _HERE_STRING.groupindex
    for found in _ECHO_PIPE.finditer(text):
        tool = found.group(pipe["tool"])
        if not _reads_stdin(view, tool, found.end(pipe["tool"])):
            continue
        second = found.group(pipe["b"])
        secrets = ["b"] if found.group(1) == "printf" and second else ["a", "b"] if second else ["a"]
        for secret in secrets:
            yield from _piped(text, *found.span(pipe[secret]), tool)
    for found in _HERE_STRING.finditer(text):
        if _reads_stdin(view, found.group(here["tool"]), found.end(here["tool"])):
            yield from _piped(text, *found.span(here["a"]), found.group(here["tool"]))


def _reads_stdin(view: TextView, tool: str, end: int) -> bool:
    if tool in _ALWAYS_STDIN:
        return True
    rest = view.text[end : min(view.line_end(end), end + 256)]
    return bool(_STDIN_MARKER.search(rest)) or tool in USER_COLON_SECRET_STDIN


def _piped(text: str, start: int, end: int, tool: str) -> Iterator[Finding]:
    if end - start >= 2 and text[start] in "'\"" and text[end - 1] == text[start]:
        start, end = start + 1, end - 1
    if tool not in USER_COLON_SECRET_STDIN:
        if not never_a_secret(text[start:end].replace("\\n", "")):
            yield Finding(start, end, "password")
        return
    position = start
    while position < end:  # user:password lines, joined by real or written newlines
        stop = min(at for at in (text.find("\\n", position, end), text.find("\n", position, end), end) if at >= 0)
        colon = text.find(":", position, stop)
        if colon >= 0 and colon + 1 < stop and not never_a_secret(text[colon + 1 : stop]):
            yield Finding(colon + 1, stop, "password")
        position = stop + (2 if text.startswith("\\n", stop) else 1)
