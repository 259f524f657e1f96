"""Python's ``str.strip()`` semantics over Arrow string columns, at column speed.

Arrow's own trim knows a slightly different set of white space (Python also strips U+001C–U+001F),
so only the rows that start or end with white space, as Python sees it, go through ``str.strip()``.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _whitespace_at_an_edge(column: pa.Array) -> np.ndarray:
    first = pc.utf8_slice_codeunits(column, 0, 1)
    last = pc.utf8_slice_codeunits(column, -1)
    edges = pc.unique(pa.concat_arrays([first.cast(pa.large_string()), last.cast(pa.large_string())]))
    spaces = [char for char in edges.to_pylist() if char and char.isspace()]
    if not spaces:
        return np.zeros(len(column), dtype=bool)
    space_set = pa.array(spaces, pa.large_string())
    hit = pc.or_(pc.is_in(first.cast(pa.large_string()), value_set=space_set),
                 pc.is_in(last.cast(pa.large_string()), value_set=space_set))
    return hit.fill_null(False).to_numpy(zero_copy_only=False)


def stripped(column: pa.Array) -> pa.Array:
    """Each value as ``str.strip()`` would return it."""
    edged = _whitespace_at_an_edge(column)
    if not edged.any():
        return column
    replacements = [value.strip() for value in column.filter(pa.array(edged)).to_pylist()]
    return pc.replace_with_mask(column, pa.array(edged), pa.array(replacements, column.type))


def non_blank(column: pa.Array) -> np.ndarray:
    """True where ``value.strip()`` is not empty."""
    keep = pc.greater(pc.utf8_length(column), 0).fill_null(False).to_numpy(zero_copy_only=False)
    edged = np.flatnonzero(_whitespace_at_an_edge(column))
    for index, value in zip(edged, column.take(pa.array(edged, pa.int64())).to_pylist()):
        keep[index] = bool(value.strip())
    return keep
