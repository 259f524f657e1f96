"""The corpus plan: exact duplicates keep the latest, clusters keep their most recent, a cluster is on
one side, and sides never change between versions."""

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


def _plan(exact, bands=None, weekly=None, prior=None, keep=3):
    n = len(exact)
    return plan_corpus(
        np.array([key.encode() for key in exact], dtype="S4"),
        None if bands is None else np.array(bands, dtype=np.uint64).reshape(n, len(bands[0]) if n else 1),
        np.array(weekly if weekly is not None else [False] * n),
        np.array(prior if prior is not None else [NO_PRIOR] * n, dtype=np.int8),
        keep,
    )


def test_of_exact_duplicates_the_latest_is_kept():
    plan = _plan(["a", "b", "a", "a"])
    assert plan.outcome.tolist() == [EXACT_DUPLICATE, KEPT, EXACT_DUPLICATE, KEPT]
    assert plan.cluster.tolist() == [-1, -1, -1, -1]


def test_a_cluster_keeps_its_most_recent_members():
    plan = _plan(["a", "b", "c", "d", "e"], bands=[[1], [1], [1], [1], [2]], keep=2)
    assert plan.outcome.tolist() == [NEAR_DUPLICATE, NEAR_DUPLICATE, KEPT, KEPT, KEPT]
    assert plan.cluster[0] == plan.cluster[3] != -1 and plan.cluster[4] == -1


def test_a_keep_of_zero_turns_near_duplicates_off():
    plan = _plan(["a", "b", "c", "a"], bands=[[1], [1], [1], [9]], keep=0)
    assert plan.outcome.tolist() == [EXACT_DUPLICATE, KEPT, KEPT, KEPT]
    assert (plan.cluster == -1).all()


def test_one_shared_band_of_several_links_a_pair():
    plan = _plan(["a", "b", "c"], bands=[[1, 5], [2, 5], [3, 6]], keep=1)
    assert plan.outcome.tolist() == [NEAR_DUPLICATE, KEPT, KEPT]


def test_links_are_transitive_across_bands():
    plan = _plan(["a", "b", "c"], bands=[[1, 7], [1, 8], [2, 8]], keep=1)
    assert plan.outcome.tolist() == [NEAR_DUPLICATE, NEAR_DUPLICATE, KEPT]


def test_a_cluster_straddling_two_groups_takes_its_earliest_members_side():
    # Rows 0 and 2 are near duplicates whose groups fall on different sides in their weeks.
    plan = _plan(["a", "b", "c"], bands=[[1], [2], [1]], weekly=[True, False, False])
    assert plan.validation.tolist() == [True, False, True]
    assert plan.kept.all()


def test_exact_duplicates_across_groups_stay_on_one_side_too():
    plan = _plan(["a", "a"], weekly=[True, False])
    assert plan.outcome.tolist() == [EXACT_DUPLICATE, KEPT] and plan.validation[1]


def test_a_pair_keeps_the_side_it_had_and_its_cluster_follows_it():
    # A backfilled earlier week brings an earlier member whose week put it in train; the cluster was
    # in validation in the version before, so it stays there.
    plan = _plan(["x", "a", "b"], bands=[[1], [1], [1]], weekly=[False, True, True], prior=[NO_PRIOR, 1, 1])
    assert plan.validation.tolist() == [True, True, True]


def test_a_pair_in_train_never_moves_and_a_new_singleton_takes_its_weeks_side():
    plan = _plan(["a", "b"], weekly=[True, True], prior=[PRIOR_TRAIN, NO_PRIOR])
    assert plan.validation.tolist() == [False, True]


def test_a_new_pair_joining_a_train_and_a_validation_cluster_is_withheld():
    plan = _plan(
        ["a", "b", "c"], bands=[[1, 8], [2, 9], [1, 9]], prior=[PRIOR_TRAIN, PRIOR_VALIDATION, NO_PRIOR], keep=5
    )
    assert plan.outcome.tolist() == [KEPT, KEPT, WITHHELD]
    assert plan.validation.tolist()[:2] == [False, True]


def test_withheld_pairs_do_not_count_against_the_cluster_cap():
    plan = _plan(
        ["a", "b", "c"], bands=[[1, 8], [2, 9], [1, 9]], prior=[PRIOR_TRAIN, PRIOR_VALIDATION, NO_PRIOR], keep=1
    )
    assert plan.outcome.tolist() == [NEAR_DUPLICATE, KEPT, WITHHELD]


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_inputs(rows):
    plan = _plan(["a"] * rows, bands=[[1]] * rows)
    assert plan.outcome.tolist() == [KEPT] * rows


def test_the_plan_is_the_same_for_the_same_input():
    rng = np.random.default_rng(7)
    exact = [str(value) for value in rng.integers(0, 50, 400)]
    bands = rng.integers(0, 80, (400, 4))
    weekly = rng.random(400) < 0.3
    first, second = _plan(exact, bands, weekly), _plan(exact, bands, weekly)
    assert (first.outcome == second.outcome).all() and (first.validation == second.validation).all()
    # Leak-free: no cluster, and no exact key, has kept members on both sides.
    kept = first.kept
    for cluster in set(first.cluster[kept & (first.cluster >= 0)].tolist()):
        assert len(set(first.validation[kept & (first.cluster == cluster)].tolist())) == 1
