"""The corpus plan: exact duplicates keep the earliest, a pair goes only when kept earlier pairs are each
its verified near duplicate (never through a chain), linked pairs lie on one side, and sides never
change between versions."""

import numpy as np
import pytest

from finetune_assets.core.corpus_plan import (
    EXACT_DUPLICATE,
    KEPT,
    NEAR_DUPLICATE,
    NO_PRIOR,
    PRIOR_TRAIN,
    PRIOR_VALIDATION,
    WITHHELD,
    plan_corpus,
)
from finetune_assets.core.near_pass import BUCKET_HEADS, NearDuplicates


class Similar:
    """Near duplicates by a table of pairs; records what it was asked. With ``enough``, as
    ``set_similarity.reaching``: a second row's pairs are not asked once enough of them were similar."""

    def __init__(self, pairs):
        self.pairs = {frozenset(pair) for pair in pairs}
        self.asked = []

    def __call__(self, first, second, enough=0):
        answers, found = [], {}
        for pair in zip(first.tolist(), second.tolist(), strict=True):
            if enough and found.get(pair[1], 0) >= enough:
                answers.append(False)
                continue
            self.asked.append(pair)
            answers.append(frozenset(pair) in self.pairs)
            found[pair[1]] = found.get(pair[1], 0) + answers[-1]
        return np.array(answers, dtype=bool)


def _plan(exact, similar=(), bands=None, weekly=None, prior=None, keep=3, chunks=(0,)):
    """``bands`` default: one key shared by every row."""
    n = len(exact)
    keys = np.array(bands if bands is not None else [[1]] * n, dtype=np.uint64).reshape(n, -1 if n else 1)
    near = NearDuplicates(lambda first, end: keys[first:end], Similar(similar), list(chunks))
    return plan_corpus(
        np.array([key.encode() for key in exact], dtype="S4"),
        np.array(weekly if weekly is not None else [False] * n),
        np.array(prior if prior is not None else [NO_PRIOR] * n, dtype=np.int8),
        keep,
        near,
    )


def test_of_exact_duplicates_the_earliest_is_kept():
    plan = _plan(["a", "b", "a", "a"])
    assert plan.outcome.tolist() == [KEPT, KEPT, EXACT_DUPLICATE, EXACT_DUPLICATE]
    assert plan.cluster.tolist() == [-1, -1, -1, -1]


def test_a_pair_goes_when_enough_kept_earlier_pairs_are_its_near_duplicates():
    clique = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    plan = _plan(["a", "b", "c", "d", "e"], similar=clique, keep=2)
    assert plan.outcome.tolist() == [KEPT, KEPT, NEAR_DUPLICATE, NEAR_DUPLICATE, KEPT]
    assert plan.cluster.tolist() == [0, -1, 0, 0, -1]  # each removed pair's earliest kept near duplicate


def test_no_removal_through_a_chain():
    # b is like a, c like b, d like c: a stays, b goes (a is kept), c stays (its only neighbour b went).
    plan = _plan(["a", "b", "c", "d"], similar=[(0, 1), (1, 2), (2, 3)], keep=1)
    assert plan.outcome.tolist() == [KEPT, NEAR_DUPLICATE, KEPT, NEAR_DUPLICATE]
    assert plan.cluster.tolist() == [0, 0, 2, 2]


def test_a_shared_band_only_proposes_the_exact_check_decides():
    plan = _plan(["a", "b", "c"], similar=[], bands=[[1], [1], [1]], keep=1)
    assert plan.kept.all() and plan.candidates == 3 and plan.verified == 0


def test_pairs_sharing_no_band_are_never_compared():
    plan = _plan(["a", "b", "c"], similar=[(0, 1)], bands=[[1, 5], [2, 6], [3, 7]], keep=1)
    assert plan.kept.all() and plan.candidates == 0


def test_one_shared_band_of_several_proposes_a_pair():
    plan = _plan(["a", "b", "c"], similar=[(0, 1)], bands=[[1, 5], [2, 5], [3, 6]], keep=1)
    assert plan.outcome.tolist() == [KEPT, NEAR_DUPLICATE, KEPT]


def test_a_large_bucket_compares_each_pair_with_its_first_members_only():
    n = BUCKET_HEADS + 20
    plan = _plan([f"{i:03d}" for i in range(n)], similar=[(0, i) for i in range(1, n)], keep=1)
    assert plan.candidates == sum(n - 1 - head for head in range(BUCKET_HEADS))
    assert plan.outcome.tolist() == [KEPT] + [NEAR_DUPLICATE] * (n - 1)


def test_a_later_chunk_is_compared_with_the_kept_rows_before_it_only():
    # Rows 0 and 1 are near duplicates (1 goes); row 2, in the next chunk, is like both.
    similar = Similar([(0, 1), (0, 2), (1, 2)])
    plan = plan_corpus(
        np.array([b"a", b"b", b"c"]),
        np.zeros(3, dtype=bool),
        np.full(3, NO_PRIOR, dtype=np.int8),
        1,
        NearDuplicates(lambda first, end: np.ones((end - first, 1), dtype=np.uint64), similar, [0, 2]),
    )
    assert plan.outcome.tolist() == [KEPT, NEAR_DUPLICATE, NEAR_DUPLICATE]
    assert sorted(similar.asked) == [(0, 1), (0, 2)]  # never the removed row 1


def test_a_keep_of_zero_turns_near_duplicates_off():
    plan = _plan(["a", "b", "c", "a"], similar=[(0, 1), (1, 2)], keep=0)
    assert plan.outcome.tolist() == [KEPT, KEPT, KEPT, EXACT_DUPLICATE]
    assert (plan.cluster == -1).all()


def test_a_chain_across_two_groups_takes_its_earliest_members_side():
    # Rows 0 and 2 are linked through row 1 (a chain); row 0's week put it in validation.
    plan = _plan(["a", "b", "c", "d"], similar=[(0, 1), (1, 2)], weekly=[True, False, False, False], keep=5)
    assert plan.validation.tolist() == [True, True, True, False]
    assert plan.kept.all()


def test_exact_duplicates_across_groups_stay_on_one_side_too():
    plan = _plan(["a", "a"], weekly=[True, False])
    assert plan.outcome.tolist() == [KEPT, EXACT_DUPLICATE] and plan.validation[0]


def test_a_pair_keeps_the_side_it_had_and_its_group_follows_it():
    # A backfilled earlier week brings an earlier member whose week put it in train; the group was
    # in validation in the version before, so it stays there.
    plan = _plan(["x", "a", "b"], similar=[(0, 1), (1, 2)], weekly=[False, True, True], prior=[NO_PRIOR, 1, 1])
    assert plan.validation.tolist() == [True, True, True]


def test_a_pair_in_train_never_moves_and_a_new_singleton_takes_its_weeks_side():
    plan = _plan(["a", "b"], weekly=[True, True], prior=[PRIOR_TRAIN, NO_PRIOR])
    assert plan.validation.tolist() == [False, True]


def test_a_new_pair_joining_a_train_and_a_validation_group_is_withheld():
    plan = _plan(["a", "b", "c"], similar=[(0, 2), (1, 2)], prior=[PRIOR_TRAIN, PRIOR_VALIDATION, NO_PRIOR], keep=5)
    assert plan.outcome.tolist() == [KEPT, KEPT, WITHHELD]
    assert plan.validation.tolist()[:2] == [False, True]


def test_withheld_pairs_do_not_count_as_kept_near_duplicates():
    plan = _plan(
        ["a", "b", "c", "d"],
        similar=[(0, 2), (1, 2), (2, 3)],
        prior=[PRIOR_TRAIN, PRIOR_VALIDATION, NO_PRIOR, NO_PRIOR],
        keep=1,
    )
    assert plan.outcome.tolist() == [KEPT, KEPT, WITHHELD, WITHHELD]


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_inputs(rows):
    plan = _plan(["a"] * rows)
    assert plan.outcome.tolist() == [KEPT] * rows


@pytest.mark.parametrize("seed", range(20))
def test_random_plans_keep_every_promise(seed):
    rng = np.random.default_rng(seed)
    n = 24
    exact = [str(value) for value in rng.integers(0, 18, n)]
    similar_texts = {frozenset(map(str, pair)) for pair in rng.integers(0, 18, (14, 2)) if pair[0] != pair[1]}
    near = {(a, b) for a in range(n) for b in range(a + 1, n) if frozenset((exact[a], exact[b])) in similar_texts}
    # A band per near pair, shared by its two rows only: buckets of two, so no cap hides a pair; each
    # row meets the kept rows of earlier chunks and the rows of its own.
    chunks = sorted({0, *rng.integers(1, n, 2).tolist()})
    bands = np.arange(1, n + 1)[:, None] * np.ones(max(len(near), 1), dtype=np.int64)
    for column, (a, b) in enumerate(sorted(near)):
        bands[[a, b], column] = 0
    first = {}
    for row, key in enumerate(exact):
        first.setdefault(key, row)
    weekly = rng.random(n) < 0.3
    for keep in (1, 2, 3):
        plan = _plan(exact, similar=near, bands=bands.tolist(), weekly=weekly, keep=keep, chunks=chunks)
        again = _plan(exact, similar=near, bands=bands.tolist(), weekly=weekly, keep=keep, chunks=chunks)
        assert (plan.outcome == again.outcome).all() and (plan.validation == again.validation).all()
        kept = set(np.flatnonzero(plan.kept).tolist())
        for row in range(n):
            earlier_kept = {a for a in kept if a < row and (a, row) in near}
            if plan.outcome[row] == NEAR_DUPLICATE:
                assert len(earlier_kept) >= keep and plan.cluster[row] == min(earlier_kept)
            if plan.outcome[row] == KEPT:
                assert len(earlier_kept) < keep
            if plan.outcome[row] == EXACT_DUPLICATE:
                assert first[exact[row]] < row
        # Leak-free: no near duplicate and no exact copy across the sides of kept pairs.
        for a, b in near:
            if a in kept and b in kept:
                assert plan.validation[a] == plan.validation[b]


@pytest.mark.parametrize("seed", range(5))
def test_band_orders_are_the_stable_argsort_of_each_band(seed):
    """Ties stay in row order: a bucket's first rows are its earliest (BUCKET_HEADS relies on it)."""
    from finetune_assets.core.near_pass import _band_orders

    rng = np.random.default_rng(seed)
    keys = rng.choice(np.array([0, 1, 7, 2**31, 2**32 - 1], dtype=np.uint32), size=(3_000, 4))
    for band, order in enumerate(_band_orders(keys)):
        assert np.array_equal(order, np.argsort(keys[:, band], kind="stable"))
