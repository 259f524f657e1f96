"""A corpus's signatures read week by week: a week's band keys and sets when the plan reaches it, and
the sets of remembered (kept) rows held for the weeks after, from this build or an earlier piece."""

import numpy as np
import pyarrow as pa
import pytest

from finetune_assets.core.corpus_card import CorpusInput
from finetune_assets.core.near_duplicates import Banding
from finetune_assets.io.kept_sets import KeptSets, read_piece
from finetune_assets.io.plan_signatures import WeekSignatures
from finetune_assets.io.store import Store
from finetune_assets.io.week_signatures import keep_signatures, signature_schema

BANDING = Banding.for_threshold(0.5)
WEEKS = ["2026-11-02", "2026-11-09"]
SETS = [[1, 2, 3, 4], [1, 2, 3, 5], [7, 8], [1, 2, 3, 4, 9], [7, 8, 10], [20]]  # rows 0-2, then 3-5


def _signatures(tmp_path, kept: KeptSets | None = None, weeks=(0, 1)) -> WeekSignatures:
    staging = Store.from_url(str(tmp_path))
    inputs = [
        CorpusInput(week, f"/x/{week}.jsonl", str(n) * 64, 3, n, "alertname", 0.0) for n, week in enumerate(WEEKS)
    ]
    for n, item in enumerate(inputs):
        rows = range(3 * n, 3 * n + 3)
        columns = [
            pa.array([f"id-{row}" for row in rows]),
            pa.array([bytes(16)] * 3, pa.binary(16)),
            pa.array([False] * 3),
            pa.FixedSizeListArray.from_arrays(
                pa.array([row * 100 + band for row in rows for band in range(BANDING.bands)], pa.uint64()),
                BANDING.bands,
            ),
            pa.array([SETS[row] for row in rows], pa.list_(pa.uint32())),
        ]
        keep_signatures(staging, item, BANDING, pa.Table.from_arrays(columns, schema=signature_schema(BANDING.bands)))
    starts = np.array([0, 3, 6])
    kept = kept or KeptSets(staging, "v1")
    return WeekSignatures(staging, [inputs[w] for w in weeks], BANDING, starts[weeks[0] :], kept)


def _jaccard(a: int, b: int) -> float:
    return len(set(SETS[a]) & set(SETS[b])) / len(set(SETS[a]) | set(SETS[b]))


def test_remembered_rows_give_the_exact_similarity_once_their_week_is_gone(tmp_path):
    signatures = _signatures(tmp_path)
    signatures.bands(0, 3)
    assert signatures.similar(np.array([0, 0]), np.array([1, 2])).tolist() == [_jaccard(0, 1) >= 0.5, False]
    signatures.remember(np.array([0, 2]))
    assert signatures.bands(3, 6)[:, 0].tolist() == [300, 400, 500]
    first, second = np.array([0, 2, 0]), np.array([3, 4, 5])
    expected = [_jaccard(a, b) >= 0.5 for a, b in zip(first, second, strict=True)]
    assert expected == [True, True, False]
    # Rows 0 and 2 were remembered: their sets are held, the first week's file is not needed any more.
    [first_week] = tmp_path.rglob(f"{WEEKS[0]}/*.arrow")
    first_week.unlink()
    assert signatures.similar(first, second).tolist() == expected
    # Row 1 was not (not kept): no later row is compared with it.
    with pytest.raises(LookupError, match="row 1 is not a kept row"):
        signatures.similar(np.array([1]), np.array([3]))


def test_a_later_build_compares_with_the_sets_an_earlier_one_kept(tmp_path):
    earlier = KeptSets(Store.from_url(str(tmp_path)), "v1")
    kept = [0, 2]
    sizes = [len(SETS[row]) for row in kept]
    values = np.array([v for row in kept for v in SETS[row]], dtype=np.uint32)
    earlier.add(WEEKS[0], np.array(kept), np.concatenate([[0], np.cumsum(sizes)]), values)
    [piece] = earlier.pieces
    later = KeptSets(Store.from_url(str(tmp_path)), "v2", [read_piece(Store.from_url(str(tmp_path)), piece.name)])
    signatures = _signatures(tmp_path, later, weeks=(1,))
    signatures.bands(3, 6)
    first, second = np.array([0, 2, 0, 3]), np.array([3, 4, 5, 4])
    expected = [_jaccard(a, b) >= 0.5 for a, b in zip(first, second, strict=True)]
    assert signatures.similar(first, second).tolist() == expected
    signatures.remember(np.array([3, 5]))
    added = signatures.kept.pieces[-1]
    assert added.name == f"v2-{WEEKS[1]}" and added.rows.tolist() == [3, 5]
    assert added.values()[added.offsets[1] : added.offsets[2]].tolist() == SETS[5]
    with pytest.raises(ValueError, match="not one week of this plan"):
        signatures.bands(0, 3)


def test_kept_sets_gather_across_pieces_into_one_array_with_room_left_at_its_end(tmp_path):
    kept = KeptSets(Store.from_url(str(tmp_path)), "v1")
    sets = {2: [1, 5], 3: [7], 9: [2, 3, 4], 12: []}
    for week, rows in (("w0", [2, 3]), ("w1", [9, 12])):
        offsets = np.concatenate([[0], np.cumsum([len(sets[row]) for row in rows])]).astype(np.int64)
        values = np.array([value for row in rows for value in sets[row]], dtype=np.uint32)
        kept.add(week, np.array(rows, dtype=np.int64), offsets, values)
    values, sizes = kept.gather(np.array([3, 9, 12]), room=4)
    assert sizes.tolist() == [1, 3, 0]
    assert len(values) == 4 + 4 and values[:4].tolist() == [7, 2, 3, 4]
    with pytest.raises(LookupError, match="row 4 is not a kept row"):
        kept.gather(np.array([2, 4]))
