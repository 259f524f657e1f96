"""Python's ``str.strip()`` semantics over Arrow string columns, at column speed.

Arrow's ``utf8_trim_whitespace`` knows a slightly different set of white space (Python also strips
U+001C–U+001F), so the trim is given Python's own set, taken from the running interpreter.
"""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PYTHON_WHITESPACE = "".join(char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace())


def stripped(column: pa.Array) -> pa.Array:
    """Each value as ``str.strip()`` would return it."""
    return pc.utf8_trim(column, characters=PYTHON_WHITESPACE)


def non_blank(column: pa.Array) -> np.ndarray:
    """True where ``value.strip()`` is not empty."""
    return pc.greater(pc.utf8_length(stripped(column)), 0).fill_null(False).to_numpy(zero_copy_only=False)
