"""Is a week unusual? Its pair count and skip rate against the median of the weeks before it.

A factor of 2 flags a week with half (or twice) the median pairs: the coordinator stopped writing its
reasoning, say, so pairs are skipped for want of an output. Skip rates are compared with one
percentage point added to both, so a move from 0 % to 0.1 % is not a departure.
"""

import statistics
from dataclasses import dataclass

TRAILING_WEEKS = 8
MIN_HISTORY = 3
RATE_FLOOR = 0.01


@dataclass(frozen=True)
class WeekFigures:
    week: str
    pairs: int
    selected: int
    skipped: int

    @property
    def skip_rate(self) -> float:
        return self.skipped / self.selected if self.selected else 0.0


def _ratio(value: float, median: float) -> float:
    if value == median:
        return 1.0
    if min(value, median) <= 0:
        return float("inf")
    return max(value, median) / min(value, median)


@dataclass(frozen=True)
class Health:
    week: WeekFigures
    history: list[WeekFigures]
    factor: float

    @property
    def enough_history(self) -> bool:
        return len(self.history) >= MIN_HISTORY

    @property
    def median_pairs(self) -> float:
        return statistics.median(item.pairs for item in self.history) if self.history else 0.0

    @property
    def median_skip_rate(self) -> float:
        return statistics.median(item.skip_rate for item in self.history) if self.history else 0.0

    @property
    def pairs_ratio(self) -> float:
        return _ratio(self.week.pairs, self.median_pairs)

    @property
    def skip_ratio(self) -> float:
        return _ratio(self.week.skip_rate + RATE_FLOOR, self.median_skip_rate + RATE_FLOOR)

    def departures(self) -> list[str]:
        if not self.enough_history:
            return []
        found = []
        if self.pairs_ratio > self.factor:
            found.append(
                f"{self.week.pairs} pairs against a median of {self.median_pairs:g} over {len(self.history)} weeks "
                f"({self.pairs_ratio:.2f}x, above {self.factor:g}x)"
            )
        if self.skip_ratio > self.factor:
            found.append(
                f"skip rate {self.week.skip_rate:.1%} against a median of {self.median_skip_rate:.1%} "
                f"({self.skip_ratio:.2f}x with the 1-point floor, above {self.factor:g}x)"
            )
        return found
