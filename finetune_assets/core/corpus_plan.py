"""Which pairs the corpus keeps, and on which side of the split, from every registered week.

Rows come in corpus order: weeks oldest first, each week's pairs in its file's order, so a lower row
number is an earlier pair. Two pairs are exact duplicates when their input and output are the same,
and near duplicates when the exact Jaccard similarity of their shingle sets reaches the threshold
(LSH bands only propose candidates; ``NearDuplicates.similar`` decides).

Invariants:
- of exact duplicates the earliest is kept; a pair is removed as a near duplicate only when at least
  ``cluster_keep`` kept earlier pairs are each a near duplicate of it (never through a chain), so a
  week added later never removes a pair of an earlier week (``near_pass``);
- a removed pair's cluster is the earliest kept pair it duplicates: every member of a cluster is a
  near duplicate of the cluster's first pair;
- a split group (pairs connected by exact copies or by the near duplicates the pass verified, chains
  included) lies wholly on one side, so no validation pair has a near duplicate or an exact copy in
  train;
- a pair that was in the previous version keeps the side it had there (a validation pair never moves
  into train), and its split group follows it; a new group takes the side its earliest pair's week
  gave that pair, so the weekly files' sides hold wherever no group says otherwise;
- a new pair that would join a train group with a validation group of the previous version is
  withheld: on either side it would leak.

``plan_corpus`` plans every row; ``plan_state.extend_plan`` plans only the rows of weeks added after a
plan, from what that plan carries (``PlanState``), to the same result.
"""

from dataclasses import dataclass

import numpy as np

from . import kept_index
from .groups import labels, link
from .kept_index import KeptIndex
from .near_pass import NearDuplicates, near_pass

KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, WITHHELD = 0, 1, 2, 3
NO_PRIOR, PRIOR_TRAIN, PRIOR_VALIDATION = -1, 0, 1


@dataclass(frozen=True)
class PlanState:
    """What planning later rows needs of a plan, besides its kept rows' shingle sets."""

    weekly: np.ndarray  # bool per row: the side its week gave it
    group: np.ndarray  # int32 per row: its split group, named by the group's earliest row
    exact_keys: np.ndarray  # the distinct exact keys, sorted
    exact_first: np.ndarray  # int32 per key: its earliest row
    exact_open: np.ndarray  # int32 per key: its earliest row not withheld, -1 when none
    index: KeptIndex | None  # the kept rows' band keys; None when near duplicates were not looked for


@dataclass(frozen=True)
class CorpusPlan:
    outcome: np.ndarray  # int8 per row: KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE or WITHHELD
    validation: np.ndarray  # bool per row: its side (meaningful where kept)
    cluster: np.ndarray  # int32 per row: the row of its cluster's first pair, -1 outside any cluster
    candidates: int = 0  # pairs the bands proposed
    verified: int = 0  # of those, near duplicates by exact Jaccard
    state: PlanState | None = None

    @property
    def kept(self) -> np.ndarray:
        return self.outcome == KEPT


def distinct_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct fixed-size keys, sorted, each row's place among them and each key's earliest row:
    np.unique's answer, by sorting the keys as raw bytes (several times faster than as strings, and a
    third of the memory)."""
    if not len(keys):
        return keys[:0], np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    if len(keys) >= kept_index.MAX_ROWS:
        raise ValueError(f"a corpus of {len(keys):,} pairs is beyond the plan's {kept_index.MAX_ROWS:,}")
    raw = np.ascontiguousarray(keys).view(f"V{keys.dtype.itemsize}")
    order = np.argsort(raw, kind="stable")  # stable: a key's rows in row order, its earliest first
    ordered = raw[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    # Rows and keys are counted in 32 bits (``kept_index.MAX_ROWS``).
    ids = np.empty(len(keys), dtype=np.int32)
    ids[order] = np.cumsum(starts) - 1
    return ordered[starts].view(keys.dtype), ids, order[starts].astype(np.int32)


def sides_of_groups(group: np.ndarray, prior_side: np.ndarray, weekly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group (by its earliest row): whether it holds pairs of the previous version on both sides, and
    its side: validation if it holds one there, train if it holds one there, else its earliest row's
    weekly side."""
    has = {}
    for side in (PRIOR_TRAIN, PRIOR_VALIDATION):
        has[side] = np.zeros(len(group), dtype=bool)
        has[side][group[prior_side == side]] = True
    conflict = has[PRIOR_TRAIN] & has[PRIOR_VALIDATION]
    side = np.where(has[PRIOR_VALIDATION], True, np.where(has[PRIOR_TRAIN], False, weekly))
    return conflict, side


def earliest_open(ids: np.ndarray, keys: int, outcome: np.ndarray) -> np.ndarray:
    """Per key (``ids``: each row's), its earliest row not withheld; -1 when none."""
    first_open = np.full(keys, len(ids), dtype=np.int32)
    open_rows = np.flatnonzero(outcome != WITHHELD)
    np.minimum.at(first_open, ids[open_rows], open_rows.astype(np.int32))
    first_open[first_open == len(ids)] = -1
    return first_open


def cluster_of(outcome: np.ndarray, first: np.ndarray) -> np.ndarray:
    """-1 but for near duplicates (their earliest kept near duplicate, ``first``) and the rows they name."""
    cluster = np.where(outcome == NEAR_DUPLICATE, first, -1)
    named = cluster[cluster >= 0]
    cluster[named] = named
    return cluster


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
    rows = np.arange(n, dtype=np.int32)
    distinct, exact_ids, first_copy = distinct_keys(exact_keys)
    copy = first_copy[exact_ids] != rows
    looked_for = near is not None and cluster_keep > 0 and n > 0
    parent = rows.copy()
    link(parent, first_copy[exact_ids][copy], rows[copy])
    found = near_pass(n, ~copy, near, cluster_keep, None, parent) if looked_for else None
    group = labels(parent)
    conflict, group_side = sides_of_groups(group, prior_side, weekly_validation)
    withheld = conflict[group] & (prior_side == NO_PRIOR)
    if found is not None and withheld.any():
        # A withheld row is no kept row for the rows after it: the near duplicates are found again
        # without them (rare: a new pair that joins a train and a validation group).
        found = near_pass(n, ~copy & ~withheld, near, cluster_keep, None)
    validation = np.where(prior_side == NO_PRIOR, group_side[group], prior_side == PRIOR_VALIDATION)

    outcome = np.full(n, KEPT, dtype=np.int8)
    outcome[withheld] = WITHHELD
    # Exact duplicates: the earliest copy that is not withheld stays.
    key_open = earliest_open(exact_ids, len(distinct), outcome)
    outcome[(outcome == KEPT) & (key_open[exact_ids] != rows)] = EXACT_DUPLICATE
    first = np.full(n, -1, dtype=np.int32)
    if found is not None:
        outcome[(outcome == KEPT) & ~found.kept & ~copy] = NEAR_DUPLICATE
        first = found.first
    state = PlanState(
        weekly_validation.astype(bool), group, distinct, first_copy, key_open, found.index if found else None
    )
    return CorpusPlan(
        outcome,
        validation.astype(bool),
        cluster_of(outcome, first),
        found.candidates if found else 0,
        found.verified if found else 0,
        state,
    )
