"""Planning added weeks from the plan before them gives what a full plan from that version gives, and
keeps every promise of the plan over several versions."""

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
from finetune_assets.core.near_pass import NearDuplicates
from finetune_assets.core.plan_state import extend_plan

from .test_corpus_plan import Similar


def _case(seed: int, n: int = 30):
    """Rows with exact copies and near-duplicate pairs (a band of their own for each, so no bucket cap
    hides one), and weekly sides."""
    rng = np.random.default_rng(seed)
    texts = rng.integers(0, 20, n)
    similar_texts = {frozenset(map(int, pair)) for pair in rng.integers(0, 20, (16, 2)) if pair[0] != pair[1]}
    near = {(a, b) for a in range(n) for b in range(a + 1, n) if frozenset((texts[a], texts[b])) in similar_texts}
    bands = (np.arange(1, n + 1)[:, None] * np.ones(max(len(near), 1), dtype=np.int64)).astype(np.uint64)
    for column, (a, b) in enumerate(sorted(near)):
        bands[[a, b], column] = 0
    exact = np.array([str(t).encode() for t in texts], dtype="S4")
    return exact, rng.random(n) < 0.4, bands, near, sorted({*rng.integers(1, n, 4).tolist()})


def _near(bands, near, chunks):
    return NearDuplicates(lambda first, end: bands[first:end], Similar(near), chunks)


def _prior(plan) -> np.ndarray:
    side = np.where(plan.validation, PRIOR_VALIDATION, PRIOR_TRAIN)
    return np.where(plan.kept, side, NO_PRIOR).astype(np.int8)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("keep", [1, 2, 3])
def test_an_added_week_plans_as_a_full_plan_from_the_version_before(seed, keep):
    exact, weekly, bands, near, cuts = _case(seed)
    split, n = cuts[len(cuts) // 2], len(exact)
    before = plan_corpus(exact[:split], weekly[:split], np.full(split, NO_PRIOR, np.int8), keep,
                         _near(bands, near, [0, *[c for c in cuts if c < split]]))  # fmt: skip
    added = extend_plan(
        before, exact[split:], weekly[split:], keep, _near(bands, near, [c for c in cuts if c >= split])
    )
    full = plan_corpus(exact, weekly, np.concatenate([_prior(before), np.full(n - split, NO_PRIOR, np.int8)]), keep,
                       _near(bands, near, [0, *cuts]))  # fmt: skip
    assert added.outcome.tolist() == full.outcome.tolist()
    assert added.cluster.tolist() == full.cluster.tolist()
    assert added.validation[added.kept].tolist() == full.validation[full.kept].tolist()


def test_the_cases_reach_every_outcome():
    seen = set()
    for seed in range(40):
        exact, weekly, bands, near, cuts = _case(seed)
        split = cuts[len(cuts) // 2]
        for keep in (1, 2, 3):
            before = plan_corpus(exact[:split], weekly[:split], np.full(split, NO_PRIOR, np.int8), keep,
                                 _near(bands, near, [0, *[c for c in cuts if c < split]]))  # fmt: skip
            chunks = [c for c in cuts if c >= split]
            seen |= set(extend_plan(before, exact[split:], weekly[split:], keep, _near(bands, near, chunks)).outcome)
    assert seen == {KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, WITHHELD}


@pytest.mark.parametrize("seed", range(30))
def test_versions_added_one_week_at_a_time_keep_every_promise(seed):
    exact, weekly, bands, near, cuts = _case(seed, n=36)
    bounds = [0, *cuts, len(exact)]
    plan = plan_corpus(exact[: bounds[1]], weekly[: bounds[1]], np.full(bounds[1], NO_PRIOR, np.int8), 2,
                       _near(bands, near, [0]))  # fmt: skip
    for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True):
        before = plan
        plan = extend_plan(before, exact[lo:hi], weekly[lo:hi], 2, _near(bands, near, [lo]))
        # A kept pair keeps its side; no earlier pair becomes kept or is removed anew.
        assert (plan.validation[:lo][before.kept] == before.validation[before.kept]).all()
        assert (plan.kept[:lo] == before.kept).all()
        kept = set(np.flatnonzero(plan.kept).tolist())
        for a, b in near:
            if a in kept and b in kept:
                assert plan.validation[a] == plan.validation[b]
        for row in np.flatnonzero(plan.outcome == NEAR_DUPLICATE):
            assert (plan.cluster[row], row) in near and plan.cluster[row] in kept
    copies = {}
    for row in np.flatnonzero(plan.kept):
        copies.setdefault(exact[row], []).append(row)
    assert all(len(rows) == 1 for rows in copies.values())
