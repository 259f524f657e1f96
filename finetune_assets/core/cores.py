"""Independent pieces of work on every core. Arrow's compute kernels, numpy's sorts and searches and the
compiled kernels release the GIL, so slices of a column (``slices``), a plan's per-band steps (25
independent columns) and its long comparisons run side by side on threads."""

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

Item, Result = TypeVar("Item"), TypeVar("Result")

WORKERS = max(1, min(4, os.cpu_count() or 1))
_PREFIX = "cores"
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=_PREFIX)


def each(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``[function(item) for item in items]``, the items spread over the cores, the results in order.
    A failure is raised once no item is still running (items not yet started are dropped), so nothing
    an item writes outlives the caller's clean-up; called from one of the threads, it runs in line
    (waiting on the pool from inside it could leave no thread to run the items)."""
    items = list(items)
    if WORKERS == 1 or len(items) < 2 or threading.current_thread().name.startswith(_PREFIX):
        return [function(item) for item in items]
    futures = [_pool.submit(function, item) for item in items]
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    if any(future.exception() is not None for future in done):
        for future in futures:
            future.cancel()
        wait(futures)
    return [future.result() for future in futures]
