"""Planning the weeks added after a plan, from what that plan carries: only the new rows are compared,
grouped and decided.

The result is ``plan_corpus``'s over every row when the previous version is that plan (its kept
pairs' sides are the prior sides): the near-duplicate pass takes chunks one after another from the
kept rows before them (``near_pass``), a new row's exact copy is looked up among the earlier keys,
and the split groups grow from the earlier groups by the new rows' links (``groups``). Earlier rows keep their
outcome, but for a removed pair whose group a new row makes hold both sides: it is withheld, as a
full plan would say.
"""

import numpy as np

from .corpus_plan import (
    EXACT_DUPLICATE,
    KEPT,
    NEAR_DUPLICATE,
    NO_PRIOR,
    PRIOR_TRAIN,
    PRIOR_VALIDATION,
    WITHHELD,
    CorpusPlan,
    PlanState,
    cluster_of,
    distinct_keys,
    earliest_open,
    sides_of_groups,
)
from .groups import labels, link
from .near_pass import NearDuplicates, near_pass


def _lookup(state: PlanState, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key: whether the earlier rows have it, and its place in the earlier table."""
    if not len(state.exact_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    at = np.searchsorted(state.exact_keys, keys)
    found = at < len(state.exact_keys)
    found[found] = state.exact_keys[at[found]] == keys[found]
    return found, at


def _merged_table(
    state: PlanState, keys: np.ndarray, first: np.ndarray, first_open: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The earlier exact-key table with the new rows' distinct keys, their earliest rows and earliest
    open rows (row numbers of the whole plan). An earlier key keeps its earliest open row even when
    this plan withholds that row: every copy of the key is in the row's group, withheld as well, so
    the entry is never asked for."""
    known, at = _lookup(state, keys)
    table_open = state.exact_open.copy()
    # A key whose earlier copies are all withheld gets its first new copy that is not.
    reopened = known & (first_open >= 0)
    reopened[reopened] = table_open[at[reopened]] < 0
    table_open[at[reopened]] = first_open[reopened]
    unseen = ~known
    return (
        np.insert(state.exact_keys, at[unseen], keys[unseen]),
        np.insert(state.exact_first, at[unseen], first[unseen]),
        np.insert(table_open, at[unseen], first_open[unseen]),
    )


def extend_plan(
    previous: CorpusPlan,
    exact_keys: np.ndarray,
    weekly_validation: np.ndarray,
    cluster_keep: int,
    near: NearDuplicates | None = None,
) -> CorpusPlan:
    """``previous``: the plan of the rows before, with its state; the arguments as ``plan_corpus`` takes
    them, for the new rows only (``near.chunks`` numbered after the earlier rows)."""
    state = previous.state
    start, count = len(previous.outcome), len(exact_keys)
    end = start + count
    rows = np.arange(start, end)
    known, at = _lookup(state, exact_keys)
    new_keys, ids, first_new = distinct_keys(exact_keys)
    first_new += start
    first_copy = first_new[ids]
    first_copy[known] = state.exact_first[at[known]]
    copy = first_copy != rows
    looked_for = near is not None and cluster_keep > 0 and count > 0
    # The earlier groups' labels point at their earliest rows: a forest the new rows' links join.
    parent = np.concatenate([state.group, rows.astype(state.group.dtype)])
    link(parent, first_copy[copy], rows[copy])
    found = near_pass(end, ~copy, near, cluster_keep, state.index, parent) if looked_for else None
    group = labels(parent)
    prior = np.where(previous.validation, PRIOR_VALIDATION, PRIOR_TRAIN)
    prior = np.concatenate([np.where(previous.outcome == KEPT, prior, NO_PRIOR), np.full(count, NO_PRIOR)])
    weekly = np.concatenate([state.weekly, weekly_validation.astype(bool)])
    conflict, group_side = sides_of_groups(group, prior, weekly)
    withheld = conflict[group[start:]]
    if found is not None and withheld.any():
        found = near_pass(end, ~copy & ~withheld, near, cluster_keep, state.index)

    outcome = np.concatenate([previous.outcome, np.full(count, KEPT, dtype=np.int8)])
    removed_before = np.isin(previous.outcome, [EXACT_DUPLICATE, NEAR_DUPLICATE])
    outcome[:start][removed_before & conflict[group[:start]]] = WITHHELD
    new_outcome = outcome[start:]
    new_outcome[withheld] = WITHHELD
    # Exact duplicates: the earliest copy that is not withheld stays.
    open_new = earliest_open(ids, len(new_keys), new_outcome)
    open_new[open_new >= 0] += start
    first_open = open_new[ids]
    earlier_open = state.exact_open[at[known]]
    first_open[known] = np.where(earlier_open >= 0, earlier_open, first_open[known])
    new_outcome[(new_outcome == KEPT) & (first_open != rows)] = EXACT_DUPLICATE
    first = np.concatenate([np.where(previous.outcome == NEAR_DUPLICATE, previous.cluster, -1), np.full(count, -1)])
    first = first.astype(np.int32)
    if found is not None:
        new_outcome[(new_outcome == KEPT) & ~found.kept & ~copy] = NEAR_DUPLICATE
        first[start:] = found.first
    keys, key_first, key_open = _merged_table(state, new_keys, first_new, open_new)
    return CorpusPlan(
        outcome,
        np.concatenate([previous.validation, group_side[group[start:]]]),
        cluster_of(outcome, first),
        found.candidates if found else 0,
        found.verified if found else 0,
        PlanState(weekly, group, keys, key_first, key_open, found.index if found else state.index),
    )
