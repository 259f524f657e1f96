"""Text as the credential rules read it, with every position mapped back to the text as written.

An attacker (or an odd keyboard) writes ``ｐａｓｓｗｏｒｄ＝…`` or hides a zero-width space inside
``pass​word``; a person reads both as ``password=``. The view folds each character by NFKC and drops
invisible ones, so one set of rules reads every spelling; a span found in the view maps back to the
characters that were written, so the right ones are replaced.

Full-width CJK punctuation (，；（）！？) is kept as written: it ends a value in CJK prose, where its
ASCII fold would look like part of a password.
"""

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass, field

# Characters that render as nothing: zero-width spaces and joiners, the word joiner, the BOM, the soft hyphen.
INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
KEPT_AS_WRITTEN = frozenset("，；（）！？")
# What may read differently from how it is written: a non-ASCII character, or a JSON escape of one.
# (Python's engine is fine here: one character or a fixed-length escape, nothing to backtrack over.)
_SPECIAL = re.compile(r"[^\x00-\x7f，；（）！？]+|\\u[0-9a-fA-F]{4}")


@functools.lru_cache(maxsize=65536)
def _fold(char: str) -> str:
    if char in INVISIBLE:
        return ""
    if char in KEPT_AS_WRITTEN:
        return char
    return unicodedata.normalize("NFKC", char)


@dataclass(frozen=True)
class TextView:
    """``text`` as read; ``original`` as written. ``anchors`` holds (view position, original position)
    wherever the two stop moving in step (a character folded to none or to several), so mapping a
    position is a binary search, and an all-ASCII text needs no table at all."""

    text: str
    original: str
    anchors: tuple[tuple[int, int], ...] = ()
    newlines: tuple[int, ...] = field(default=(), compare=False)
    # The last run of non-space characters measured: every key inside one long run shares its end,
    # so a text without white space is measured once, not once per key.
    last_token: list[int] = field(default_factory=lambda: [0, -1], compare=False, repr=False)

    @classmethod
    def of(cls, original: str) -> "TextView":
        if "\\u" not in original and (original.isascii() or _reads_as_written(original)):
            return cls(original, original, (), _newlines(original))
        pieces: list[str] = []
        anchors: list[tuple[int, int]] = []
        view_position, copied = 0, 0
        # ASCII runs are copied whole; only the characters that fold (and JSON's \uXXXX) are looked at.
        for special in _SPECIAL.finditer(original):
            position = special.start()
            pieces.append(original[copied:position])
            view_position += position - copied
            copied = special.end()
            written = special.group()
            if written.startswith("\\u"):
                view_position = _folded_into(_decoded(written), position, copied, view_position, pieces, anchors)
            elif unicodedata.is_normalized("NFKC", written) and INVISIBLE.isdisjoint(written):
                pieces.append(written)  # CJK text, accented letters: read as written
                view_position += len(written)
            else:
                for offset, char in enumerate(written):
                    at = position + offset
                    view_position = _folded_into(char, at, at + 1, view_position, pieces, anchors)
        pieces.append(original[copied:])
        text = "".join(pieces)
        return cls(text, original, tuple(anchors), _newlines(text))

    def position(self, view_position: int) -> int:
        """The original position of a view position (a character folded into several maps to its start)."""
        if not self.anchors:
            return view_position
        index = bisect.bisect_right(self.anchors, (view_position, len(self.original) + 1)) - 1
        if index < 0:
            return view_position
        view_anchor, original_anchor = self.anchors[index]
        return min(original_anchor + (view_position - view_anchor), len(self.original))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters a view span was read from, whole characters included."""
        begin = self.position(start)
        finish = self.position(end)
        if self.anchors and end > start:
            # A view span that ends inside a character's expansion ends after that character.
            finish = max(finish, self.position(end - 1) + 1)
        return begin, max(begin, finish)

    def line_end(self, position: int) -> int:
        """Where the line holding ``position`` ends (its newline, or the end of the text)."""
        index = bisect.bisect_left(self.newlines, position)
        return self.newlines[index] if index < len(self.newlines) else len(self.text)

    def line_start(self, position: int) -> int:
        index = bisect.bisect_left(self.newlines, position) - 1
        return self.newlines[index] + 1 if index >= 0 else 0


def _reads_as_written(text: str) -> bool:
    """No character folds: NFKC leaves the text as it is (so each character as it is) and nothing is
    invisible. Most CJK text is so, and then needs no character-by-character walk."""
    return unicodedata.is_normalized("NFKC", text) and not any(char in text for char in INVISIBLE)


def _folded_into(
    char: str, start: int, end: int, view_position: int, pieces: list[str], anchors: list[tuple[int, int]]
) -> int:
    """Appends the fold of the character written at ``start:end``; returns the next view position."""
    folded = _fold(char)
    pieces.append(folded)
    if len(folded) == 1 and end - start == 1:
        return view_position + 1
    # From here on the view and the original stop moving in step: every view position inside the
    # fold maps to this character, and the one after it to the next character.
    anchors.extend((view_position + inside, start) for inside in range(len(folded)))
    anchors.append((view_position + len(folded), end))
    return view_position + len(folded)


def _decoded(escape: str) -> str:
    """A JSON ``\\uXXXX`` escape as its character; a surrogate half stays as written (it is not text)."""
    char = chr(int(escape[2:], 16))
    return escape if 0xD800 <= ord(char) <= 0xDFFF else char


def _newlines(text: str) -> tuple[int, ...]:
    """Every newline's position, found once: the rules ask for line ends many times on one long line."""
    found, position = [], text.find("\n")
    while position >= 0:
        found.append(position)
        position = text.find("\n", position + 1)
    return tuple(found)
