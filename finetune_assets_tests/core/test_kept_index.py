"""The kept rows' band index: a bucket's earliest rows first, a copy that rows are added to leaves the
original as it was, and the 32-bit row numbers are a stated limit."""

import numpy as np
import pytest

from finetune_assets.core import kept_index
from finetune_assets.core.corpus_plan import distinct_keys
from finetune_assets.core.kept_index import KeptIndex
from finetune_assets.core.kernels import within_buckets


def _pairs(packed: np.ndarray) -> list[tuple[int, int]]:
    return sorted(((int(p) & 0xFFFFFFFF), int(p) >> 32) for p in packed)


def test_a_bucket_gives_its_earliest_kept_rows_first():
    index = KeptIndex.empty(2)
    index.add(np.array([[7, 1], [7, 2], [7, 3]], dtype=np.uint32), np.array([4, 2, 9]))
    index.add(np.array([[7, 5]], dtype=np.uint32), np.array([11]))
    found = index.candidates(np.array([[7, 3]], dtype=np.uint32), np.array([20]), 2, [np.array([0])] * 2)
    # Band 0: key 7 holds rows 2, 4, 9, 11; the first two are asked. Band 1: key 3 holds row 9.
    assert _pairs(found) == [(2, 20), (4, 20), (9, 20)]


def test_a_copy_takes_rows_and_the_original_stays():
    index = KeptIndex.empty(1)
    index.add(np.array([[1]], dtype=np.uint32), np.array([0]))
    grown = index.copy()
    grown.add(np.array([[1]], dtype=np.uint32), np.array([5]))
    assert index.rows[0].tolist() == [0] and grown.rows[0].tolist() == [0, 5]


def test_rows_beyond_the_32_bit_limit_are_refused_by_name(monkeypatch):
    monkeypatch.setattr(kept_index, "MAX_ROWS", 10)
    with pytest.raises(ValueError, match="a corpus of 11 pairs is beyond the plan's 10"):
        KeptIndex.empty(1).add(np.array([[1]], dtype=np.uint32), np.array([10]))
    with pytest.raises(ValueError, match="a corpus of 12 pairs is beyond the plan's 10"):
        distinct_keys(np.array([b"k%d" % i for i in range(12)], dtype="S4"))


def test_rows_added_with_their_sorting_orders_index_as_rows_sorted_here():
    rng = np.random.default_rng(7)
    keys, rows = rng.integers(0, 5, (40, 3)).astype(np.uint32), np.arange(100, 140)
    chosen = rng.random(40) < 0.6
    orders = [np.argsort(keys[:, band], kind="stable") for band in range(3)]
    at_chosen = np.cumsum(chosen) - 1
    given, sorted_here = KeptIndex.empty(3), KeptIndex.empty(3)
    given.add(keys[chosen], rows[chosen], [at_chosen[order[chosen[order]]] for order in orders])
    sorted_here.add(keys[chosen], rows[chosen])
    for band in range(3):
        assert given.keys[band].tolist() == sorted_here.keys[band].tolist()
        assert given.rows[band].tolist() == sorted_here.rows[band].tolist()


def test_a_chunks_own_pairs_are_each_row_with_its_buckets_first_rows():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 6, size=200).astype(np.uint32)
    rows = np.sort(rng.choice(10_000, size=200, replace=False))
    order = np.argsort(keys, kind="stable")
    heads = 3
    expected = sorted(
        (int(earlier), int(later))
        for key in np.unique(keys)
        for at, later in enumerate(rows[keys == key])
        for earlier in rows[keys == key][: min(at, heads)]
    )
    assert _pairs(within_buckets(keys[order], rows[order], heads)) == expected
    assert len(expected) > 200  # buckets of about 33 rows: most rows meet three earlier ones
