"""Independent pieces of work on every core. numpy's sorts and searches and the compiled kernels
release the GIL, so a plan's per-band steps (25 independent columns) and its long comparisons run
side by side on threads, where the build has no other work for the second core."""

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item, Result = TypeVar("Item"), TypeVar("Result")

WORKERS = max(1, min(4, os.cpu_count() or 1))
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="plan-cores")


def each(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``[function(item) for item in items]``, the items spread over the cores, the results in order."""
    items = list(items)
    if WORKERS == 1 or len(items) < 2:
        return [function(item) for item in items]
    return list(_pool.map(function, items))
