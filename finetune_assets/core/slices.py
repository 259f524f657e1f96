"""A whole-column Arrow kernel on every core: Arrow's compute functions release the GIL but each call
runs on one thread, and a regex pass over a batch of long texts is worth splitting."""

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from .cores import WORKERS, each

# Below this many rows a second thread costs more than it saves.
MIN_ROWS_PER_SLICE = 8_192


def on_slices(kernel: Callable[[pa.Array], pa.Array], column: pa.Array) -> pa.Array:
    """``kernel(column)``, computed on up to one slice per core; the kernel must be row-wise."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    parts = min(WORKERS, len(column) // MIN_ROWS_PER_SLICE)
    if parts <= 1:
        return kernel(column)
    step = -(-len(column) // parts)
    slices = [column.slice(start, step) for start in range(0, len(column), step)]
    return pa.concat_arrays(each(kernel, slices))


def on_columns(kernel: Callable[[pa.Array], pa.Array], columns: Sequence[pa.Array]) -> list[pa.Array]:
    """``kernel`` of each column, computed over all of them at once. A regex kernel compiles its
    pattern on every call (milliseconds for a union of rules), so one call over a batch's ten text
    columns costs a tenth of ten calls, and the joined column is long enough to split over the cores."""
    joined, bounds = joined_columns(columns)
    return split_as(on_slices(kernel, joined), bounds)


def joined_columns(columns: Sequence[pa.Array]) -> tuple[pa.Array, list[int]]:
    """The columns one after another as one string column, and where each starts (and the last ends).
    A column of nulls only (nothing was looked up) reads as strings that are all null."""
    whole = [column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column for column in columns]
    joined = pa.concat_arrays([column.cast(pa.large_string()) for column in whole])
    return joined, np.cumsum([0, *(len(column) for column in whole)]).tolist()


def split_as(joined: pa.Array, bounds: list[int]) -> list[pa.Array]:
    """A column computed over ``joined_columns`` cut back into one per column."""
    return [joined.slice(start, end - start) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
