"""Which pairs the corpus keeps, and on which side of the split, from every registered week at once.

Rows come in corpus order: weeks oldest first, each week's pairs in its file's order, so a lower row
number is an earlier pair. Two pairs are exact duplicates when their input and output are the same,
and near duplicates when the exact Jaccard similarity of their shingle sets reaches the threshold
(LSH bands only propose candidates; ``NearDuplicates.similar`` decides).

Invariants:
- of exact duplicates the earliest is kept; a pair is removed as a near duplicate only when at least
  ``cluster_keep`` kept earlier pairs are each a near duplicate of it (never through a chain), so a
  week added later never removes a pair of an earlier week;
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

KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, WITHHELD = 0, 1, 2, 3
NO_PRIOR, PRIOR_TRAIN, PRIOR_VALIDATION = -1, 0, 1
# In a band's bucket each pair is compared with the bucket's first pairs (by row) only: a bucket of
# thousands of near-identical texts costs thousands of comparisons, not millions. Texts with equal
# shingle sets are grouped before, so such buckets are rare.
BUCKET_HEADS = 32
_OPEN, _IN, _OUT = 0, 1, 2


@dataclass(frozen=True)
class NearDuplicates:
    set_keys: np.ndarray  # one fixed-size key per row, equal exactly when the shingle sets are equal
    bands: np.ndarray  # rows x bands of LSH keys: pairs sharing one in some column are candidates
    similar: Callable[[np.ndarray, np.ndarray], np.ndarray]  # rows a, b -> bool: is J(a[i], b[i]) >= threshold


@dataclass(frozen=True)
class CorpusPlan:
    outcome: np.ndarray  # int8 per row: KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE or WITHHELD
    validation: np.ndarray  # bool per row: its side (meaningful where kept)
    cluster: np.ndarray  # int64 per row: the row of its cluster's first pair, -1 outside any cluster
    candidates: int = 0  # pairs of distinct shingle sets the bands proposed
    verified: int = 0  # of those, near duplicates by exact Jaccard

    @property
    def kept(self) -> np.ndarray:
        return self.outcome == KEPT


def _inverse(keys: np.ndarray) -> np.ndarray:
    return np.unique(keys, return_inverse=True)[1].reshape(-1) if len(keys) else np.zeros(0, dtype=np.int64)


def _ranked(group: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (group, row), each one's rank in its group and its group's first position."""
    order = np.lexsort((rows, group))
    ordered = group[order]
    start = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if len(order) else np.zeros(0, dtype=bool)
    first = np.flatnonzero(start)[np.cumsum(start) - 1] if len(order) else np.zeros(0, dtype=np.int64)
    return rows[order], np.arange(len(order)) - first, first


def _bucket_pairs(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(earlier, later) row pairs sharing a key: each row with its bucket's first ``BUCKET_HEADS`` rows."""
    ordered, rank, first = _ranked(_inverse(keys), rows)
    size = np.bincount(first, minlength=len(ordered))[first] if len(ordered) else first
    member = np.flatnonzero(size > 1)
    pairs = []
    for head in range(min(BUCKET_HEADS, int(rank[member].max()) if len(member) else 0)):
        later = member[rank[member] > head]
        pairs.append(np.stack([ordered[first[later] + head], ordered[later]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


@dataclass(frozen=True)
class _NearGraph:
    earlier: np.ndarray  # edges (earlier row, later row) between the nodes: verified near duplicates
    later: np.ndarray
    follower: np.ndarray  # rows beyond the first ``keep`` of a group of equal shingle sets
    head: np.ndarray  # each follower's group's first row
    candidates: int
    verified: int


def _near_graph(rows: np.ndarray, near: NearDuplicates, keep: int) -> _NearGraph:
    """Rows with equal shingle sets (a group) are near duplicates of each other and of the same others,
    so only a group's first row (its head) is compared, and its first ``keep`` rows (the nodes) take
    part in the edges. A later row of a group (a follower) has at least ``keep`` kept earlier near
    duplicates whatever happens (its group's nodes, or those that removed one of them): it goes."""
    ordered, rank, first = _ranked(_inverse(near.set_keys[rows]), rows)
    edges = [
        np.stack([ordered[first[rank > earlier] + earlier], ordered[rank > earlier]], axis=1) for earlier in range(keep)
    ]
    nodes = ordered[rank < keep]
    heads = ordered[rank == 0]
    # One table of each group's first ``keep`` rows, by its head: a verified pair of heads links them all.
    group_rows = np.full((len(heads), keep), -1, dtype=np.int64)
    group_of_head = np.full(int(rows.max()) + 1 if len(rows) else 0, -1, dtype=np.int64)
    group_of_head[heads] = np.arange(len(heads))
    group_rows[np.cumsum(rank == 0)[rank < keep] - 1, rank[rank < keep]] = nodes

    candidates = [_bucket_pairs(near.bands[heads, column], heads) for column in range(near.bands.shape[1])]
    pairs = np.concatenate(candidates) if candidates else np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs
    verified = pairs[near.similar(pairs[:, 0], pairs[:, 1])] if len(pairs) else pairs
    a, b = group_rows[group_of_head[verified[:, 0]]], group_rows[group_of_head[verified[:, 1]]]
    for i in range(keep):
        for j in range(keep):
            linked = np.stack([a[:, i], b[:, j]], axis=1)
            edges.append(linked[(linked >= 0).all(axis=1)])
    edges = np.sort(np.concatenate(edges), axis=1) if edges else np.zeros((0, 2), dtype=np.int64)
    followers = rank >= keep
    return _NearGraph(
        edges[:, 0], edges[:, 1], ordered[followers], ordered[first[followers]], len(pairs), len(verified)
    )


def _greedy(n: int, earlier: np.ndarray, later: np.ndarray, candidate: np.ndarray, keep: int) -> np.ndarray:
    """Rows, earliest first, are kept unless ``keep`` kept earlier rows are near duplicates of them.
    Resolved in waves: a row goes as soon as ``keep`` of its earlier neighbours are kept, and stays once
    all of them are resolved with fewer kept. The earliest open row always resolves, so this ends, in
    as many waves as the longest chain of rows waiting on each other."""
    live = candidate[earlier] & candidate[later]
    earlier, later = earlier[live], later[live]
    state = np.where(candidate, _OPEN, _OUT).astype(np.int8)
    state[candidate & (np.bincount(later, minlength=n) == 0)] = _IN
    while True:
        waiting = state[later] == _OPEN
        earlier, later = earlier[waiting], later[waiting]
        if not len(later):
            break
        kept_before = np.bincount(later[state[earlier] == _IN], minlength=n)
        open_before = np.bincount(later[state[earlier] == _OPEN], minlength=n)
        open_rows = state == _OPEN
        state[open_rows & (kept_before >= keep)] = _OUT
        state[open_rows & (kept_before < keep) & (open_before == 0)] = _IN
    state[state == _OPEN] = _IN
    return state == _IN


def _first_kept_near(graph: _NearGraph, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each follower: how many kept earlier rows are its near duplicates, and the earliest of them
    (those of its head, and the head itself: the same shingle set)."""
    ends = np.concatenate([[graph.earlier, graph.later], [graph.later, graph.earlier]], axis=1)
    ends = np.concatenate([ends, np.stack([graph.head, graph.head])], axis=1)
    ends = ends[:, kept[ends[1]] & np.isin(ends[0], graph.head)]
    keys = np.unique(ends[0] << 32 | ends[1])
    if not len(keys):
        return np.zeros(len(graph.follower), dtype=np.int64), np.full(len(graph.follower), -1, dtype=np.int64)
    start = np.searchsorted(keys, graph.head << 32)
    count = np.searchsorted(keys, graph.head << 32 | graph.follower) - start
    return count, np.where(count > 0, keys[np.minimum(start, len(keys) - 1)] & 0xFFFFFFFF, -1)


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
    none = np.zeros(0, dtype=np.int64)
    graph = _NearGraph(none, none, none, none, 0, 0)
    if near is not None and cluster_keep > 0 and n:
        graph = _near_graph(rows[~copy], near, cluster_keep)

    group = _components(
        n, [first_copy[exact_ids][copy], graph.earlier, graph.head], [rows[copy], graph.later, graph.follower]
    )
    first_of_group = np.full(group.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first_of_group, group, rows)
    has = {}
    for side in (PRIOR_TRAIN, PRIOR_VALIDATION):
        has[side] = np.zeros(len(first_of_group), dtype=bool)
        has[side][group[prior_side == side]] = True
    conflict = has[PRIOR_TRAIN] & has[PRIOR_VALIDATION]
    group_side = np.where(
        has[PRIOR_VALIDATION],
        True,
        np.where(has[PRIOR_TRAIN], False, weekly_validation[np.minimum(first_of_group, n - 1)]),
    )
    validation = np.where(prior_side == NO_PRIOR, group_side[group], prior_side == PRIOR_VALIDATION)

    outcome = np.full(n, KEPT, dtype=np.int8)
    outcome[conflict[group] & (prior_side == NO_PRIOR)] = WITHHELD
    # Exact duplicates: the earliest copy that is not withheld stays.
    open_rows = outcome == KEPT
    first_open = np.full(len(first_copy), n, dtype=np.int64)
    np.minimum.at(first_open, exact_ids[open_rows], rows[open_rows])
    outcome[open_rows & (first_open[exact_ids] != rows)] = EXACT_DUPLICATE

    cluster = np.full(n, -1, dtype=np.int64)
    if len(graph.earlier) or len(graph.follower):
        earlier, later = graph.earlier, graph.later
        candidate = outcome == KEPT
        candidate[graph.follower] = False
        kept = _greedy(n, earlier, later, candidate, cluster_keep)
        outcome[candidate & ~kept] = NEAR_DUPLICATE
        # A removed row's cluster: the earliest kept row it is a near duplicate of.
        joins = kept[earlier] & (outcome[later] == NEAR_DUPLICATE)
        first = np.full(n, n, dtype=np.int64)
        np.minimum.at(first, later[joins], earlier[joins])
        count, first_of_follower = _first_kept_near(graph, kept)
        goes = (outcome[graph.follower] == KEPT) & (count >= cluster_keep)
        outcome[graph.follower[goes]] = NEAR_DUPLICATE
        first[graph.follower[goes]] = first_of_follower[goes]
        removed = first < n
        cluster[removed] = first[removed]
        cluster[np.unique(first[removed])] = np.unique(first[removed])
    return CorpusPlan(outcome, validation.astype(bool), cluster, graph.candidates, graph.verified)
