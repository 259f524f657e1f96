"""Split groups as a union-find forest over rows (compiled: ``kernels``): each row points towards its
group's earliest row, so a group's name is its earliest row whatever order its links come in.

Links are added as a plan finds them, a chunk at a time, so no list of all links is ever held; the
labels of a plan (every row pointing straight at its group's earliest row) are themselves a forest a
later plan adds links to.
"""

import numpy as np


def link(parent: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> None:
    """Joins the groups of ``sources[i]`` and ``targets[i]`` in the forest ``parent`` (int64, in place)."""
    from .kernels import link as compiled

    compiled(parent, sources.astype(np.int64, copy=False), targets.astype(np.int64, copy=False))


def labels(parent: np.ndarray) -> np.ndarray:
    """Each row's group, named by its earliest row (``parent`` is flattened in place and returned)."""
    from .kernels import flatten

    flatten(parent)
    return parent
