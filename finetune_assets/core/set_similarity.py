"""Exact Jaccard similarity of sorted sets, pair by pair (the loops are compiled: ``kernels``).

Sets are rows of a flat array (``values[offsets[i]:offsets[i + 1]]``, each sorted and distinct). A pair's
shared values are counted by merging its two rows. Deciding whether a pair reaches a threshold stops
the merge as soon as the values left cannot lift it there: most candidates the LSH bands propose are
templates' variants somewhat below the threshold, and are refused after part of a merge.
"""

import numpy as np

from .cores import WORKERS, each

# Below this many pairs a second thread costs more than it saves.
MIN_PAIRS_PER_PART = 20_000


def gathered_sets(
    values: np.ndarray, starts: np.ndarray, sizes: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``values[starts[i]:starts[i] + sizes[i]]`` back to back: the sets of the rows a comparison needs,
    copied without index arrays (which would take several times their size); into ``out`` when given
    (its first ``sizes.sum()`` values), so that parts gathered from several arrays are never joined."""
    from .kernels import copy_runs

    if out is None:
        out = np.empty(int(sizes.sum()), dtype=values.dtype)
    copy_runs(values, starts.astype(np.int64, copy=False), sizes.astype(np.int64, copy=False), out)
    return out


def jaccard(values: np.ndarray, offsets: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The exact Jaccard similarity of the sets ``first[i]`` and ``second[i]``."""
    from .kernels import jaccard as compiled

    return compiled(
        values,
        offsets.astype(np.int64, copy=False),
        first.astype(np.int64, copy=False),
        second.astype(np.int64, copy=False),
    )


def reaching(
    values: np.ndarray,
    offsets: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    threshold: float,
    enough: int = 0,
) -> np.ndarray:
    """Per pair: does its Jaccard similarity reach ``threshold``? With ``enough``, the pairs come grouped
    by ``second`` (each group in the order to ask), and once ``enough`` pairs of a group reach it the
    rest of the group is not compared (False). Long lists are compared a part per core, cut between
    groups."""
    from .kernels import reaching as compiled

    offsets = offsets.astype(np.int64, copy=False)
    first, second = first.astype(np.int64, copy=False), second.astype(np.int64, copy=False)
    cuts = _group_cuts(second, min(WORKERS, len(first) // MIN_PAIRS_PER_PART))
    parts = each(
        lambda part: compiled(
            values, offsets, first[slice(*part)], second[slice(*part)], float(threshold), int(enough)
        ),
        zip(cuts[:-1], cuts[1:], strict=True),
    )
    return np.concatenate(parts)


def _group_cuts(groups: np.ndarray, parts: int) -> list[int]:
    """Where to cut ``groups`` (grouped values) into about ``parts`` even parts, never inside a group:
    the first part's start, each cut, the end."""
    cuts = [0]
    for part in range(1, parts):
        at = len(groups) * part // parts
        while 0 < at < len(groups) and groups[at] == groups[at - 1]:
            at += 1
        if cuts[-1] < at < len(groups):
            cuts.append(at)
    return [*cuts, len(groups)]
