"""The near-duplicate pass of a corpus plan: rows taken a chunk (a week) at a time, each compared with
the kept rows of earlier chunks and with the rows of its own chunk that share a band key with it, and
decided in row order.

A row goes when at least ``keep`` kept earlier rows are each its verified near duplicate (never through
a chain). Its kept candidates of earlier chunks are asked earliest first, and once ``keep`` of them are
near duplicates the rest are not compared: the row goes whatever they are. Pairs within the chunk
decide between rows still open, so all of those are compared.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .arrays import distinct
from .cores import each
from .groups import link
from .kept_index import KeptIndex

# A pair is compared with the first (earliest) rows of each of its bands' buckets only: at least
# twice ``keep`` of them, so a bucket of thousands of copies of one template costs thousands of
# comparisons, not millions.
BUCKET_HEADS = 8
_OPEN, _IN, _OUT = 0, 1, 2


@dataclass(frozen=True)
class NearDuplicates:
    # Rows lo..hi -> (hi - lo) x bands LSH keys: two rows sharing one in some column are candidates.
    bands: Callable[[int, int], np.ndarray]
    # Rows a, b, enough -> bool: is J(a[i], b[i]) >= the threshold. The pairs come grouped by b; with
    # ``enough`` > 0, once that many of a group are near duplicates the rest of it may answer False.
    similar: Callable[[np.ndarray, np.ndarray, int], np.ndarray]
    chunks: list[int]  # the first row of each chunk (a week), planned one after another
    # Told the rows kept in each chunk: the only rows of earlier chunks ``similar`` is asked about.
    remember: Callable[[np.ndarray], None] = lambda rows: None


@dataclass(frozen=True)
class NearPass:
    """The pass over rows ``start`` (the first chunk's first row) to the end."""

    start: int
    kept: np.ndarray  # bool per row: kept as no near duplicate of ``keep`` kept earlier rows
    first: np.ndarray  # int32 per row: its earliest kept near duplicate, -1 when none
    candidates: int
    verified: int
    index: KeptIndex | None  # the kept rows' band keys, those of earlier passes included (None: no row)


def _unpacked(packed: np.ndarray) -> np.ndarray:
    """The distinct pairs, as (earlier, later) rows: grouped by their later row, earlier rows ascending."""
    packed = distinct(packed)
    return np.stack([(packed & np.uint64(0xFFFFFFFF)).astype(np.int64), (packed >> np.uint64(32)).astype(np.int64)], 1)


def _band_orders(keys: np.ndarray) -> list[np.ndarray]:
    """Per band, the stable order that sorts its (32-bit) keys: each key sorted with its position in
    the low 32 bits, since numpy sorts 64-bit integers with SIMD, about nine times faster than its
    stable argsort of a week's keys."""
    positions = np.arange(len(keys), dtype=np.uint64)

    def order(band: int) -> np.ndarray:
        packed = np.sort(keys[:, band].astype(np.uint64) << np.uint64(32) | positions)
        return (packed & np.uint64(0xFFFFFFFF)).astype(np.intp)

    return each(order, range(keys.shape[1]))


def _pairs_within(keys: np.ndarray, rows: np.ndarray, heads: int, orders: list[np.ndarray]) -> np.ndarray:
    """The chunk's own pairs sharing a key in some band (packed), each with its bucket's first ``heads``."""
    from .kernels import within_buckets

    pairs = each(lambda band: within_buckets(keys[orders[band], band], rows[orders[band]], heads), range(len(orders)))
    return np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.uint64)


def _greedy(count: int, earlier: np.ndarray, later: np.ndarray, outside: np.ndarray, keep: int) -> np.ndarray:
    """Positions 0..count-1, earliest first, are kept unless ``keep`` kept earlier ones are near
    duplicates of them, counting ``outside`` kept near duplicates each already has. Resolved in waves:
    a position goes as soon as ``keep`` of its earlier neighbours are kept, and stays once all of them
    are resolved with fewer kept. The earliest open position always resolves, so this ends, in as many
    waves as the longest chain of positions waiting on each other."""
    state = np.full(count, _OPEN, dtype=np.int8)
    state[outside >= keep] = _OUT
    while True:
        waiting = state[later] == _OPEN
        earlier, later = earlier[waiting], later[waiting]
        open_rows = state == _OPEN
        kept_before = outside + np.bincount(later[state[earlier] == _IN], minlength=count)
        open_before = np.bincount(later[state[earlier] == _OPEN], minlength=count)
        state[open_rows & (kept_before >= keep)] = _OUT
        state[open_rows & (kept_before < keep) & (open_before == 0)] = _IN
        if not (state == _OPEN).any():
            return state == _IN


def near_pass(
    end: int,
    taking_part: np.ndarray,
    near: NearDuplicates,
    keep: int,
    index: KeptIndex | None,
    parent: np.ndarray | None = None,
) -> NearPass:
    """Rows ``near.chunks[0]`` to ``end``; ``taking_part``: bool per one of them; ``index``: the rows
    kept before them (None: there are none); ``parent``: the split groups' forest (``groups``), which
    each verified near duplicate joins as it is found."""
    start = near.chunks[0]
    heads = max(BUCKET_HEADS, 2 * keep)
    index = index.copy() if index is not None else None  # the caller's stays as it was: a pass may run again
    kept, first = np.zeros(end - start, dtype=bool), np.full(end - start, -1, dtype=np.int32)
    candidates, verified = 0, 0
    bounds = [*near.chunks, end]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rows = lo + np.flatnonzero(taking_part[lo - start : hi - start])
        if not len(rows):
            continue
        keys = (near.bands(lo, hi)[rows - lo] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        index = index or KeptIndex.empty(keys.shape[1])
        # Sorted once per band for the kept candidates, the week's own buckets and the index.
        orders = _band_orders(keys)
        proposed = _unpacked(index.candidates(keys, rows, heads, orders))
        old = proposed[near.similar(proposed[:, 0], proposed[:, 1], keep)]
        settled = np.bincount(old[:, 1] - lo, minlength=hi - lo) >= keep
        inside = _unpacked(_pairs_within(keys, rows, heads, orders))
        inside = inside[~settled[inside[:, 0] - lo] & ~settled[inside[:, 1] - lo]]
        good = np.concatenate([old, inside[near.similar(inside[:, 0], inside[:, 1], 0)]])
        candidates, verified = candidates + len(proposed) + len(inside), verified + len(good)
        position = np.full(hi - lo, -1, dtype=np.int64)
        position[rows - lo] = np.arange(len(rows))
        outside = np.bincount(position[old[:, 1] - lo], minlength=len(rows))
        within = good[len(old) :]
        chosen = _greedy(len(rows), position[within[:, 0] - lo], position[within[:, 1] - lo], outside, keep)
        kept[rows[chosen] - start] = True
        kept_here = kept[lo - start : hi - start]
        # An edge from a kept row to one that went: the earlier rows of ``old`` are kept by definition.
        from_kept = np.concatenate([np.ones(len(old), dtype=bool), kept_here[within[:, 0] - lo]])
        joins = good[from_kept & ~kept_here[good[:, 1] - lo]]
        reach = np.full(hi - lo, end, dtype=np.int64)
        np.minimum.at(reach, joins[:, 1] - lo, joins[:, 0])
        first[lo - start : hi - start] = np.where(reach < end, reach, -1)
        at_chosen = np.cumsum(chosen) - 1  # a row's place among the chosen
        index.add(keys[chosen], rows[chosen], [at_chosen[order[chosen[order]]] for order in orders])
        near.remember(rows[chosen])
        if parent is not None:
            link(parent, good[:, 0], good[:, 1])
    return NearPass(start, kept, first, candidates, verified, index)
