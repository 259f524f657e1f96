"""How well a corpus plan's near-duplicate decisions match exact Jaccard similarity on the project's own
shingles, computed independently of the plan (Python sets, an exact all-pairs join with prefix
filtering: two sets at Jaccard >= t share one of the first |A| - ceil(t|A|) + 1 shingles of each, in
any one global order).

- precision: of pairs removed as near duplicates, the share whose cluster's first pair (the kept pair
  the plan names) is at or above the threshold;
- recall: of pairs that have ``keep`` kept earlier pairs at or above the threshold (so should go), the
  share that went;
- leaks: kept validation pairs with a kept train pair at or above the threshold.
"""

import hashlib
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.corpus_plan import KEPT, NEAR_DUPLICATE, NO_PRIOR, CorpusPlan, plan_corpus
from ..core.near_duplicates import Banding, near_duplicate_signatures
from ..core.near_pass import NearDuplicates
from ..core.set_similarity import reaching


@dataclass(frozen=True)
class Quality:
    removed: int
    removed_rightly: int
    should_go: int
    went: int
    leaks: int
    similar_pairs: int  # pairs of rows at or above the threshold (exact copies included)

    @property
    def precision(self) -> float:
        return self.removed_rightly / self.removed if self.removed else 1.0

    @property
    def recall(self) -> float:
        return self.went / self.should_go if self.should_go else 1.0


def similar_pairs(sets: list[frozenset], threshold: float) -> dict[int, dict[int, float]]:
    """Every pair of rows at Jaccard >= ``threshold``, as row -> {other row: similarity}. Rows with
    equal sets are compared once, as one set."""
    rows_of: dict[frozenset, list[int]] = defaultdict(list)
    for row, shingles in enumerate(sets):
        rows_of[shingles].append(row)
    distinct = list(rows_of)
    frequency: dict = defaultdict(int)
    for shingles in distinct:
        for shingle in shingles:
            frequency[shingle] += 1
    postings: dict = defaultdict(list)
    for index, shingles in enumerate(distinct):
        ordered = sorted(shingles, key=lambda s: (frequency[s], s))
        for shingle in ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]:
            postings[shingle].append(index)
    near: dict[int, dict[int, float]] = defaultdict(dict)
    for indices in postings.values():
        for i, a in enumerate(indices):
            for b in indices[i + 1 :]:
                if b not in near[a]:
                    similarity = len(distinct[a] & distinct[b]) / len(distinct[a] | distinct[b])
                    if similarity >= threshold:
                        near[a][b] = near[b][a] = similarity
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for index, shingles in enumerate(distinct):
        rows = rows_of[shingles]
        others = {row: 1.0 for row in rows}
        for other, similarity in near[index].items():
            others.update(dict.fromkeys(rows_of[distinct[other]], similarity))
        for row in rows:
            found[row] = {other: value for other, value in others.items() if other != row}
    return found


def quality(plan: CorpusPlan, sets: list[frozenset], threshold: float, keep: int) -> Quality:
    similar = similar_pairs(sets, threshold)
    kept = plan.outcome == KEPT
    removed = np.flatnonzero(plan.outcome == NEAR_DUPLICATE)
    rightly = sum(int(plan.cluster[row]) in similar[int(row)] for row in removed)
    should_go = went = leaks = 0
    for row in range(len(sets)):
        if plan.outcome[row] not in (KEPT, NEAR_DUPLICATE):
            continue
        earlier_kept = [other for other in similar[row] if other < row and kept[other]]
        if len(earlier_kept) >= keep:
            should_go += 1
            went += plan.outcome[row] == NEAR_DUPLICATE
        if kept[row] and plan.validation[row]:
            leaks += sum(kept[other] and not plan.validation[other] for other in similar[row])
    pairs = sum(len(others) for others in similar.values()) // 2
    return Quality(len(removed), rightly, should_go, went, leaks, pairs)


def planned(
    texts: list[str], keep: int, threshold: float, verify: bool = True, weeks: int = 4
) -> tuple[CorpusPlan, list[frozenset]]:
    """The corpus plan of ``texts`` in this order, as ``weeks`` weeks (one in five pairs' weekly side
    validation), as a build plans it, and each text's shingle set. ``verify=False`` removes by
    shared bands alone."""
    signatures = near_duplicate_signatures(pa.array(texts, pa.large_string()), Banding.for_threshold(threshold))

    def similar(first: np.ndarray, second: np.ndarray, enough: int = 0) -> np.ndarray:
        if not verify:
            return np.ones(len(first), dtype=bool)
        return reaching(signatures.sets, signatures.offsets, first, second, threshold, enough)

    n = len(texts)
    plan = plan_corpus(
        np.array([hashlib.sha256(text.encode()).digest()[:16] for text in texts]),
        np.random.default_rng(1).random(n) < 0.2,
        np.full(n, NO_PRIOR, dtype=np.int8),
        keep,
        NearDuplicates(
            lambda first, end: signatures.bands[first:end], similar, [n * week // weeks for week in range(weeks)]
        ),
    )
    sets = [frozenset(signatures.sets[a:b].tolist()) for a, b in itertools.pairwise(signatures.offsets)]
    return plan, sets
