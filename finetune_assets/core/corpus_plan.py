"""Which pairs the corpus keeps, and on which side of the split, from every registered week at once.

Rows come in corpus order: weeks oldest first, each week's pairs in its file's order, so a higher
row number is a more recent pair. Pairs are linked when they are exact duplicates (same input and
output) or share an LSH band key (near duplicates); a cluster is a connected set of linked pairs.

Invariants:
- a cluster lies wholly on one side: a near duplicate in validation never has its twin in train;
- a pair that was in the previous version keeps the side it had there (a validation pair never moves
  into train), and its cluster follows it; a new cluster takes the side its earliest pair's week gave
  that pair, so the weekly files' sides hold wherever no cluster says otherwise;
- a new pair that would link a train cluster with a validation cluster of the previous version is
  withheld: on either side it would leak;
- of exact duplicates only the latest is kept; a cluster keeps at most ``cluster_keep`` pairs, its
  most recent (0: near duplicates are not looked for).
"""

from dataclasses import dataclass

import numpy as np

KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, WITHHELD = 0, 1, 2, 3
NO_PRIOR, PRIOR_TRAIN, PRIOR_VALIDATION = -1, 0, 1


@dataclass(frozen=True)
class CorpusPlan:
    outcome: np.ndarray  # int8 per row: KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE or WITHHELD
    validation: np.ndarray  # bool per row: its side (meaningful where kept)
    cluster: np.ndarray  # int64 per row: its near-duplicate cluster, -1 when it has no near duplicate

    @property
    def kept(self) -> np.ndarray:
        return self.outcome == KEPT


def _run_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges from the first row of each run of equal keys to every other row of the run."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(keys)  # which row of a run heads it does not matter: only the components do
    ordered = keys[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    heads = order[np.flatnonzero(starts)[np.cumsum(starts) - 1]]
    linked = heads != order
    return heads[linked], order[linked]


def plan_corpus(
    exact_keys: np.ndarray,
    band_keys: np.ndarray | None,
    weekly_validation: np.ndarray,
    prior_side: np.ndarray,
    cluster_keep: int,
) -> CorpusPlan:
    """``exact_keys``: one fixed-size bytes key per row; ``band_keys``: rows x bands, or None when near
    duplicates are not looked for; ``prior_side``: NO_PRIOR or the side in the previous version."""
    # Imported here: the worker processes that sign weeks import this package and never plan.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(exact_keys)
    exact_ids = np.unique(exact_keys, return_inverse=True)[1].reshape(-1) if n else np.zeros(0, dtype=np.int64)
    label = np.arange(n)
    # Link by one key column at a time, merging components as they grow: memory stays at one
    # column's edges, however many bands there are.
    for keys in [exact_ids, *([] if band_keys is None or cluster_keep == 0 else band_keys.T)]:
        source, target = _run_edges(keys)
        source, target = label[source], label[target]
        crossing = source != target
        if crossing.any():
            edges = np.ones(int(crossing.sum()), dtype=np.int8)
            graph = coo_matrix((edges, (source[crossing], target[crossing])), shape=(n, n))
            label = connected_components(graph, directed=False)[1][label]

    rows = np.arange(n)
    earliest = np.full(label.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(earliest, label, rows)
    has = {}
    for side in (PRIOR_TRAIN, PRIOR_VALIDATION):
        has[side] = np.zeros(len(earliest), dtype=bool)
        has[side][label[prior_side == side]] = True
    conflict = has[PRIOR_TRAIN] & has[PRIOR_VALIDATION]
    cluster_side = np.where(
        has[PRIOR_VALIDATION], True, np.where(has[PRIOR_TRAIN], False, weekly_validation[np.minimum(earliest, n - 1)])
    )
    validation = np.where(prior_side == NO_PRIOR, cluster_side[label], prior_side == PRIOR_VALIDATION)

    outcome = np.full(n, KEPT, dtype=np.int8)
    outcome[conflict[label] & (prior_side == NO_PRIOR)] = WITHHELD
    candidates = outcome == KEPT
    # Exact duplicates: the latest (highest row) of each key stays.
    latest = np.full(len(exact_ids) and exact_ids.max() + 1, -1, dtype=np.int64)
    np.maximum.at(latest, exact_ids[candidates], rows[candidates])
    outcome[candidates & (latest[exact_ids] != rows)] = EXACT_DUPLICATE

    distinct = outcome == KEPT
    size = np.bincount(label[distinct], minlength=len(earliest))
    in_cluster = size[label] > 1
    if cluster_keep > 0:
        # Rank each cluster's remaining pairs, most recent first; beyond cluster_keep they go.
        order = np.lexsort((-rows[distinct], label[distinct]))
        ordered_labels = label[distinct][order]
        run_start = np.concatenate([[True], ordered_labels[1:] != ordered_labels[:-1]])
        position = np.arange(len(order)) - np.flatnonzero(run_start)[np.cumsum(run_start) - 1]
        over = rows[distinct][order][position >= cluster_keep]
        outcome[over] = NEAR_DUPLICATE
    cluster = np.where(in_cluster, label, -1).astype(np.int64)
    return CorpusPlan(outcome, validation.astype(bool), cluster)
