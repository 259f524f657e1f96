"""numpy idioms the corpus code shares: distinct values, runs of equal values, and slices gathered."""

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy 2's hashing np.unique is some fifty times slower on integers."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered


def run_ranks(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted values: each position's run (of equal values) start, and its rank within the run."""
    if not len(ordered):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    first = np.flatnonzero(start)[np.cumsum(start) - 1]
    return first, np.arange(len(ordered)) - first


def gather_runs(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """values[starts[0] : starts[0] + sizes[0]], then the next slice, … back to back, in one take."""
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return values[np.repeat(starts, sizes) + within]
