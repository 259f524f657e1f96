"""A whole-column Arrow kernel on every core: Arrow's compute functions release the GIL but each call
runs on one thread, and a regex pass over a batch of long texts is worth splitting."""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

# Below this many rows a second thread costs more than it saves.
MIN_ROWS_PER_SLICE = 8_192
WORKERS = max(1, min(4, os.cpu_count() or 1))
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="column-slices")


def on_slices(kernel: Callable[[pa.Array], pa.Array], column: pa.Array) -> pa.Array:
    """``kernel(column)``, computed on up to one slice per core; the kernel must be row-wise."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    parts = min(WORKERS, len(column) // MIN_ROWS_PER_SLICE)
    if parts <= 1:
        return kernel(column)
    step = -(-len(column) // parts)
    slices = [column.slice(start, step) for start in range(0, len(column), step)]
    return pa.concat_arrays(list(_pool.map(kernel, slices)))
