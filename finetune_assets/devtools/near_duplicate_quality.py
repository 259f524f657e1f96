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

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..core.corpus_plan import KEPT, NEAR_DUPLICATE, CorpusPlan


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
    """Every pair of rows at Jaccard >= ``threshold``, as row -> {other row: similarity}."""
    frequency: dict = defaultdict(int)
    for shingles in sets:
        for shingle in shingles:
            frequency[shingle] += 1
    postings: dict = defaultdict(list)
    for row, shingles in enumerate(sets):
        ordered = sorted(shingles, key=lambda s: (frequency[s], s))
        for shingle in ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]:
            postings[shingle].append(row)
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for rows in postings.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if b in found[a]:
                    continue
                similarity = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
                if similarity >= threshold:
                    found[a][b] = found[b][a] = similarity
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
