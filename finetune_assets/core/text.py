"""Blank text, the same in Python and over Arrow string columns (at column speed): ``str.strip()``'s
white space plus the characters that show nothing.

Arrow's ``utf8_trim_whitespace`` knows a slightly different set of white space (Python also strips
U+001C–U+001F), so the trim is given Python's own set, taken from the running interpreter.
"""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PYTHON_WHITESPACE = "".join(char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace())
# Characters that show nothing: a summary of only these (or a byte-order mark in front) is as blank as
# one of spaces, though str.isspace() says otherwise.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
BLANK = PYTHON_WHITESPACE + INVISIBLE


def strip_blank(text: str) -> str:
    """``str.strip()`` that also strips the invisible characters."""
    return text.strip(BLANK)


def stripped(column: pa.Array) -> pa.Array:
    """Each value as ``strip_blank`` would return it."""
    return pc.utf8_trim(column, characters=BLANK)


def non_blank(column: pa.Array) -> np.ndarray:
    """True where ``strip_blank(value)`` is not empty."""
    return pc.greater(pc.utf8_length(stripped(column)), 0).fill_null(False).to_numpy(zero_copy_only=False)
