"""Split groups as a forest: a group is named by its earliest row whatever order its links come in, and
a plan's labels take more links later."""

import numpy as np
import pytest

from finetune_assets.core.groups import labels, link


@pytest.mark.parametrize("seed", range(20))
def test_groups_are_the_connected_rows_named_by_the_earliest(seed):
    rng = np.random.default_rng(seed)
    n = 30
    edges = rng.integers(0, n, (rng.integers(0, 40), 2))
    parent = np.arange(n)
    link(parent, edges[:, 0], edges[:, 1])
    found = labels(parent)
    # Reference: repeated relaxation to the lowest reachable row.
    expected = np.arange(n)
    for _ in range(n):
        for a, b in edges:
            expected[a] = expected[b] = min(expected[a], expected[b])
    for _ in range(n):
        expected = expected[expected]
    assert found.tolist() == expected.tolist()


def test_labels_take_more_links_later():
    parent = np.arange(6)
    link(parent, np.array([4, 1]), np.array([5, 3]))
    before = labels(parent).copy()
    assert before.tolist() == [0, 1, 2, 1, 4, 4]
    grown = np.concatenate([before, np.arange(6, 8)])
    link(grown, np.array([7, 3]), np.array([5, 7]))  # a new row joins two earlier groups
    assert labels(grown).tolist() == [0, 1, 2, 1, 1, 1, 6, 1]
