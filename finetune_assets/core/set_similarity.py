"""Exact Jaccard similarity of sorted sets, pair by pair (the loops are compiled: ``kernels``).

Sets are rows of a flat array (``values[offsets[i]:offsets[i + 1]]``, each sorted and distinct). A pair's
shared values are counted by merging its two rows. Deciding whether a pair reaches a threshold stops
the merge as soon as the values left cannot lift it there: most candidates the LSH bands propose are
templates' variants somewhat below the threshold, and are refused after part of a merge.
"""

import numpy as np


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
    rest of the group is not compared (False)."""
    from .kernels import reaching as compiled

    return compiled(
        values,
        offsets.astype(np.int64, copy=False),
        first.astype(np.int64, copy=False),
        second.astype(np.int64, copy=False),
        float(threshold),
        int(enough),
    )
