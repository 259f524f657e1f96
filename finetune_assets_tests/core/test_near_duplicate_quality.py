"""Near duplicates mean what the threshold says: on texts with templates (English with variable parts,
Chinese without spaces, short alerts), topically similar texts, edit chains and repeats, the plan's
removals match exact Jaccard on the shingles, and no validation pair has a near duplicate in train."""

from collections import Counter

import pytest

from finetune_assets.core.corpus_plan import EXACT_DUPLICATE
from finetune_assets.devtools.near_duplicate_cases import cases
from finetune_assets.devtools.near_duplicate_quality import planned, quality, similar_pairs

THRESHOLD = 0.85


def _planned(texts, keep, verify=True, threshold=THRESHOLD):
    return planned(texts, keep, threshold, verify)


@pytest.fixture(scope="module")
def texts():
    return cases(3000, seed=5)


def test_the_cases_hold_what_the_measure_needs(texts):
    _, sets = _planned(texts, 1)
    loose = similar_pairs(sets, 0.6)
    similarities = Counter(
        "identical" if value == 1 else "near" if value >= THRESHOLD else "borderline"
        for others in loose.values()
        for value in others.values()
    )
    assert min(similarities.values()) > 200, similarities  # borderline pairs (0.6 to 0.85) included
    # Chained: rows near a near duplicate of theirs that they are not near themselves.
    near = similar_pairs(sets, THRESHOLD)
    chained = sum(any(c not in near[a] and c != a for b in near[a] for c in near[b]) for a in near)
    assert chained > 50
    assert sum(any("\u4e00" <= char <= "\u9fff" for char in text) for text in texts) > 150  # Chinese


@pytest.mark.parametrize("keep", [1, 3])
def test_precision_and_recall_against_exact_jaccard(texts, keep):
    plan, sets = _planned(texts, keep)
    measured = quality(plan, sets, THRESHOLD, keep)
    assert measured.removed > 300 and measured.should_go > 300
    assert measured.precision >= 0.99 and measured.recall >= 0.99, measured
    assert measured.leaks == 0
    assert (plan.outcome == EXACT_DUPLICATE).sum() > 50


def test_the_measure_sees_removals_by_shared_bands_alone(texts):
    plan, sets = _planned(texts, 1, verify=False)
    assert quality(plan, sets, THRESHOLD, 1).precision < 0.95


@pytest.mark.parametrize("threshold", [0.7, 0.95])
def test_other_thresholds_mean_what_they_say(texts, threshold):
    plan, sets = _planned(texts, 1, threshold=threshold)
    measured = quality(plan, sets, threshold, 1)
    assert measured.precision >= 0.99 and measured.recall >= 0.99 and measured.leaks == 0, measured
