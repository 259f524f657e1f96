"""Exact Jaccard of sorted sets: the merge with its early stop decides exactly as the full ratio does,
and a group of pairs stops being compared once enough of them reach the threshold."""

from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_assets.core import kernels, set_similarity
from finetune_assets.core.set_similarity import jaccard, reaching

sets_strategy = st.lists(st.frozensets(st.integers(0, 40), max_size=30), min_size=2, max_size=12)


def _flat(sets: list[frozenset]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([v for s in sets for v in sorted(s)], dtype=np.uint32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    return values, offsets


def _exact(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(len(a | b), 1)


@settings(max_examples=300, deadline=None)
@given(sets_strategy, st.sampled_from([0.3, 0.5, 0.6, 0.85, 0.9, 1.0]))
def test_reaching_decides_as_the_exact_ratio(sets, threshold):
    values, offsets = _flat(sets)
    first = np.repeat(np.arange(len(sets)), len(sets))
    second = np.tile(np.arange(len(sets)), len(sets))
    exact = [_exact(sets[a], sets[b]) for a, b in zip(first, second, strict=True)]
    assert jaccard(values, offsets, first, second).tolist() == exact
    assert reaching(values, offsets, first, second, threshold).tolist() == [j >= threshold for j in exact]


def test_borderline_pairs_on_both_sides_of_the_threshold():
    # 17 of 20 shared: J = 17 / 23 ≈ 0.739; 18 of 20: 18 / 22 ≈ 0.818.
    base = frozenset(range(20))
    sets = [base, frozenset([*range(17), 100, 101, 102]), frozenset([*range(18), 100, 101])]
    values, offsets = _flat(sets)
    assert reaching(values, offsets, np.array([0, 0]), np.array([1, 2]), 0.8).tolist() == [False, True]
    assert reaching(values, offsets, np.array([0, 0]), np.array([1, 2]), 0.739).tolist() == [True, True]


def test_a_group_stops_once_enough_reach_the_threshold():
    same = frozenset(range(10))
    sets = [same, same, frozenset(range(5)), same, same, same]
    values, offsets = _flat(sets)
    # Row 5's candidates in the order asked: 0, 2 (too far), 1, 3; then row 4's: 0, 1.
    first, second = np.array([0, 2, 1, 3, 0, 1]), np.array([5, 5, 5, 5, 4, 4])
    assert reaching(values, offsets, first, second, 0.9, enough=2).tolist() == [True, False, True, False, True, True]
    assert reaching(values, offsets, first, second, 0.9).tolist() == [True, False, True, True, True, True]


@settings(max_examples=200, deadline=None)
@given(sets_strategy, st.sampled_from([0.5, 0.85]), st.integers(0, 3), st.integers(1, 4), st.randoms())
def test_a_long_list_compared_in_parts_decides_as_one_walk(sets, threshold, enough, per_part, random):
    # Parts run on other threads, cut between groups: a group cut in two would count its near
    # duplicates anew in its second part, and go on comparing after ``enough``.
    values, offsets = _flat(sets)
    second = np.repeat(np.arange(len(sets)), [random.randint(0, 5) for _ in sets])
    first = np.array([random.randrange(len(sets)) for _ in second], dtype=np.int64)
    whole = kernels.reaching(values, offsets, first, second.astype(np.int64), float(threshold), enough)
    with patch.object(set_similarity, "MIN_PAIRS_PER_PART", per_part), patch.object(set_similarity, "WORKERS", 3):
        assert reaching(values, offsets, first, second, threshold, enough).tolist() == whole.tolist()


def test_the_cuts_fall_between_groups_and_cover_the_list():
    groups = np.array([1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 4])
    assert set_similarity._group_cuts(groups, 2) == [0, 5, 11]  # 5 (of 11 // 2) is the start of group 3
    assert set_similarity._group_cuts(groups, 4) == [0, 4, 5, 10, 11]
    assert set_similarity._group_cuts(np.array([7] * 6), 3) == [0, 6]  # one group: one part
    assert set_similarity._group_cuts(np.zeros(0), 2) == [0, 0]
