"""Which pairs the corpus keeps, and on which side of the split, from every registered week.

Rows come in corpus order: weeks oldest first, each week's pairs in its file's order, so a lower row
number is an earlier pair. Two pairs are exact duplicates when their input and output are the same,
and near duplicates when the exact Jaccard similarity of their shingle sets reaches the threshold
(LSH bands only propose candidates; ``NearDuplicates.similar`` decides).

Invariants:
- of exact duplicates the earliest is kept; a pair is removed as a near duplicate only when at least
  ``cluster_keep`` kept earlier pairs are each a near duplicate of it (never through a chain), so a
  week added later never removes a pair of an earlier week. Rows are taken a chunk (a week) at a
  time, each compared with the kept rows before it and the rows of its chunk, through their bands;
- a removed pair's cluster is the earliest kept pair it duplicates: every member of a cluster is a
  near duplicate of the cluster's first pair;
- a split group (pairs connected by exact or near duplicates, chains included) lies wholly on one
  side, so no validation pair has a near duplicate or an exact copy in train;
- a pair that was in the previous version keeps the side it had there (a validation pair never moves
  into train), and its split group follows it; a new group takes the side its earliest pair's week
  gave that pair, so the weekly files' sides hold wherever no group says otherwise;
- a new pair that would join a train group with a validation group of the previous version is
  withheld: on either side it would leak.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .arrays import distinct, run_ranks

KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, WITHHELD = 0, 1, 2, 3
NO_PRIOR, PRIOR_TRAIN, PRIOR_VALIDATION = -1, 0, 1
# A pair is compared with the first (earliest) rows of each of its bands' buckets only: at least
# twice ``cluster_keep`` of them, so a bucket of thousands of copies of one template costs thousands
# of comparisons, not millions.
BUCKET_HEADS = 8
_OPEN, _IN, _OUT = 0, 1, 2


@dataclass(frozen=True)
class NearDuplicates:
    # Rows lo..hi -> (hi - lo) x bands LSH keys: two rows sharing one in some column are candidates.
    bands: Callable[[int, int], np.ndarray]
    similar: Callable[[np.ndarray, np.ndarray], np.ndarray]  # rows a, b -> bool: is J(a[i], b[i]) >= threshold
    chunks: list[int]  # the first row of each chunk (a week), planned one after another
    # Told the rows kept in each chunk: the only rows of earlier chunks ``similar`` is asked about.
    remember: Callable[[np.ndarray], None] = lambda rows: None


@dataclass(frozen=True)
class CorpusPlan:
    outcome: np.ndarray  # int8 per row: KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE or WITHHELD
    validation: np.ndarray  # bool per row: its side (meaningful where kept)
    cluster: np.ndarray  # int64 per row: the row of its cluster's first pair, -1 outside any cluster
    candidates: int = 0  # pairs the bands proposed
    verified: int = 0  # of those, near duplicates by exact Jaccard

    @property
    def kept(self) -> np.ndarray:
        return self.outcome == KEPT


def _inverse(keys: np.ndarray) -> np.ndarray:
    return np.unique(keys, return_inverse=True)[1].reshape(-1) if len(keys) else np.zeros(0, dtype=np.int64)


def _bucket_pairs(keys: np.ndarray, heads: int) -> np.ndarray:
    """(earlier, later) positions sharing a key: each with its bucket's first ``heads`` positions."""
    order = np.argsort(keys, kind="stable")  # stable: within a bucket, earlier positions first
    first, rank = run_ranks(keys[order])
    pairs = []
    for head in range(min(heads, int(rank.max()) if len(rank) else 0)):
        later = np.flatnonzero(rank > head)
        pairs.append(np.stack([order[first[later] + head], order[later]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


class _KeptIndex:
    """The band keys of the rows kept so far, one sorted column per band, to find a new row's kept
    candidates by key. Keys are cut to 32 bits: a collision only proposes a pair the check refuses."""

    def __init__(self, bands: int):
        self.keys = [np.zeros(0, dtype=np.uint32) for _ in range(bands)]
        self.rows = [np.zeros(0, dtype=np.int64) for _ in range(bands)]

    def candidates(self, keys: np.ndarray, rows: np.ndarray, heads: int) -> np.ndarray:
        """(kept row, row) pairs sharing a key: each row with the first ``heads`` kept rows of a bucket."""
        pairs = []
        for column, (sorted_keys, sorted_rows) in enumerate(zip(self.keys, self.rows, strict=True)):
            left = np.searchsorted(sorted_keys, keys[:, column], "left")
            right = np.searchsorted(sorted_keys, keys[:, column], "right")
            for head in range(min(heads, int((right - left).max()) if len(left) else 0)):
                has = left + head < right
                pairs.append(np.stack([sorted_rows[left[has] + head], rows[has]], axis=1))
        return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        for column in range(len(self.keys)):
            # Sorted by key, then row; added rows come after the earlier ones of their key: a bucket
            # lists its rows in row order.
            order = np.lexsort((rows, keys[:, column]))
            at = np.searchsorted(self.keys[column], keys[order, column], "right")
            self.keys[column] = np.insert(self.keys[column], at, keys[order, column])
            self.rows[column] = np.insert(self.rows[column], at, rows[order])


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    if not len(pairs):
        return pairs
    packed = distinct(pairs[:, 0].astype(np.uint64) << np.uint64(32) | pairs[:, 1].astype(np.uint64))
    return np.stack([(packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)], 1)


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


@dataclass(frozen=True)
class _NearPass:
    kept: np.ndarray  # bool per row: kept as no near duplicate of ``keep`` kept earlier rows
    first: np.ndarray  # per row: its earliest kept near duplicate, -1 when none
    earlier: np.ndarray  # verified edges (earlier row, later row)
    later: np.ndarray
    candidates: int
    verified: int


def _near_pass(n: int, taking_part: np.ndarray, near: NearDuplicates, keep: int) -> _NearPass:
    """Chunk by chunk (week by week), each row taking part is compared with the kept rows of earlier
    chunks and with the rows of its own chunk that share a band key with it, and decided in row order."""
    heads = max(BUCKET_HEADS, 2 * keep)
    kept, first = np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    index, earlier_all, later_all, candidates, verified = None, [], [], 0, 0
    bounds = [*near.chunks, n]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rows = lo + np.flatnonzero(taking_part[lo:hi])
        if not len(rows):
            continue
        keys = (near.bands(lo, hi)[rows - lo] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        index = index or _KeptIndex(keys.shape[1])
        inside = [rows[_bucket_pairs(keys[:, column], heads)] for column in range(keys.shape[1])]
        earlier_kept = _unique_pairs(index.candidates(keys, rows, heads))
        # First each row's ``keep`` earliest kept candidates: a row they settle (enough of them are its
        # near duplicates) goes whatever its other candidates are, and is compared no further.
        order = np.lexsort((earlier_kept[:, 0], earlier_kept[:, 1]))
        earlier_kept = earlier_kept[order]
        rank = run_ranks(earlier_kept[:, 1])[1]
        first_asked = earlier_kept[rank < keep]
        settling = first_asked[near.similar(first_asked[:, 0], first_asked[:, 1])] if len(first_asked) else first_asked
        settled = np.zeros(hi - lo, dtype=bool)
        settled[np.flatnonzero(np.bincount(settling[:, 1] - lo, minlength=hi - lo) >= keep)] = True
        rest = _unique_pairs(np.concatenate([earlier_kept[rank >= keep], *inside]))
        rest = rest[~settled[rest[:, 1] - lo] & ~((rest[:, 0] >= lo) & settled[np.maximum(rest[:, 0] - lo, 0)])]
        good = np.concatenate([settling, rest[near.similar(rest[:, 0], rest[:, 1])] if len(rest) else rest])
        candidates, verified = candidates + len(first_asked) + len(rest), verified + len(good)
        position = np.full(hi - lo, -1, dtype=np.int64)
        position[rows - lo] = np.arange(len(rows))
        old = good[:, 0] < lo  # a kept row of an earlier chunk
        outside = np.bincount(position[good[old, 1] - lo], minlength=len(rows))
        new = good[~old]
        chosen = _greedy(len(rows), position[new[:, 0] - lo], position[new[:, 1] - lo], outside, keep)
        kept[rows[chosen]] = True
        joins = good[kept[good[:, 0]] & ~kept[good[:, 1]]]
        reach = np.full(hi - lo, n, dtype=np.int64)
        np.minimum.at(reach, joins[:, 1] - lo, joins[:, 0])
        first[lo:hi] = np.where(reach < n, reach, -1)
        index.add(keys[chosen], rows[chosen])
        near.remember(rows[chosen])
        earlier_all.append(good[:, 0])
        later_all.append(good[:, 1])
    none = np.zeros(0, dtype=np.int64)
    return _NearPass(
        kept,
        first,
        np.concatenate(earlier_all) if earlier_all else none,
        np.concatenate(later_all) if later_all else none,
        candidates,
        verified,
    )


def _components(n: int, sources: list[np.ndarray], targets: list[np.ndarray]) -> np.ndarray:
    # Imported here: the worker processes that sign weeks import this package and never plan.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    source, target = np.concatenate(sources), np.concatenate(targets)
    if not len(source):
        return np.arange(n)
    graph = coo_matrix((np.ones(len(source), dtype=np.int8), (source, target)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def plan_corpus(
    exact_keys: np.ndarray,
    weekly_validation: np.ndarray,
    prior_side: np.ndarray,
    cluster_keep: int,
    near: NearDuplicates | None = None,
) -> CorpusPlan:
    """``exact_keys``: one fixed-size bytes key per row; ``prior_side``: NO_PRIOR or the side in the
    previous version; ``near``: None (or ``cluster_keep`` 0) when near duplicates are not looked for."""
    n = len(exact_keys)
    rows = np.arange(n)
    exact_ids = _inverse(exact_keys)
    first_copy = np.full(exact_ids.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first_copy, exact_ids, rows)
    copy = first_copy[exact_ids] != rows
    looked_for = near is not None and cluster_keep > 0 and n > 0
    none = np.zeros(0, dtype=np.int64)
    found = _near_pass(n, ~copy, near, cluster_keep) if looked_for else None
    earlier, later = (found.earlier, found.later) if found else (none, none)
    group = _components(n, [first_copy[exact_ids][copy], earlier], [rows[copy], later])
    first_of_group = np.full(group.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first_of_group, group, rows)
    has = {}
    for side in (PRIOR_TRAIN, PRIOR_VALIDATION):
        has[side] = np.zeros(len(first_of_group), dtype=bool)
        has[side][group[prior_side == side]] = True
    conflict = has[PRIOR_TRAIN] & has[PRIOR_VALIDATION]
    withheld = conflict[group] & (prior_side == NO_PRIOR)
    if found is not None and withheld.any():
        # A withheld row is no kept row for the rows after it: the near duplicates are found again
        # without them (rare: a new pair that joins a train and a validation group).
        found = _near_pass(n, ~copy & ~withheld, near, cluster_keep)
    group_side = np.where(
        has[PRIOR_VALIDATION],
        True,
        np.where(has[PRIOR_TRAIN], False, weekly_validation[np.minimum(first_of_group, n - 1)]),
    )
    validation = np.where(prior_side == NO_PRIOR, group_side[group], prior_side == PRIOR_VALIDATION)

    outcome = np.full(n, KEPT, dtype=np.int8)
    outcome[withheld] = WITHHELD
    # Exact duplicates: the earliest copy that is not withheld stays.
    open_rows = outcome == KEPT
    first_open = np.full(len(first_copy), n, dtype=np.int64)
    np.minimum.at(first_open, exact_ids[open_rows], rows[open_rows])
    outcome[open_rows & (first_open[exact_ids] != rows)] = EXACT_DUPLICATE

    cluster = np.full(n, -1, dtype=np.int64)
    if found is not None:
        removed = (outcome == KEPT) & ~found.kept & ~copy
        outcome[removed] = NEAR_DUPLICATE
        cluster[removed] = found.first[removed]
        cluster[np.unique(found.first[removed])] = np.unique(found.first[removed])
    return CorpusPlan(
        outcome, validation.astype(bool), cluster, found.candidates if found else 0, found.verified if found else 0
    )
