"""A corpus's signatures read week by week: a week's band keys and sets when the plan reaches it, the
sets of remembered (kept) rows held for the weeks after, and any other row read again from its week."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from finetune_assets.core.corpus_card import CorpusInput
from finetune_assets.core.near_duplicates import Banding
from finetune_assets.io.store import Store
from finetune_assets.io.week_signatures import WeekSignatures, signature_path, signature_schema

BANDING = Banding.for_threshold(0.5)
WEEKS = ["2026-11-02", "2026-11-09"]
SETS = [[1, 2, 3, 4], [1, 2, 3, 5], [7, 8], [1, 2, 3, 4, 9], [7, 8, 10], [20]]  # rows 0-2, then 3-5


def _signatures(tmp_path) -> WeekSignatures:
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
        with staging.writing(signature_path(staging, item, BANDING)) as handle:
            pq.write_table(pa.Table.from_arrays(columns, schema=signature_schema(BANDING.bands)), handle)
    return WeekSignatures(staging, inputs, BANDING, np.array([0, 3, 6]))


def _jaccard(a: int, b: int) -> float:
    return len(set(SETS[a]) & set(SETS[b])) / len(set(SETS[a]) | set(SETS[b]))


def test_remembered_rows_and_rows_read_again_give_the_exact_similarity(tmp_path):
    signatures = _signatures(tmp_path)
    assert signatures.bands(3, 6)[:, 0].tolist() == [300, 400, 500]
    assert signatures.similar(np.array([0, 0]), np.array([1, 2])).tolist() == [_jaccard(0, 1) >= 0.5, False]
    signatures.remember(np.array([0, 2]))
    first, second = np.array([0, 2, 1, 3]), np.array([3, 4, 3, 5])
    expected = [_jaccard(a, b) >= 0.5 for a, b in zip(first, second, strict=True)]
    assert expected == [True, True, True, False]
    # Row 1 was not remembered (not kept): its week is read again.
    assert signatures.similar(first, second).tolist() == expected
    # Rows 0 and 2 were: their sets are held, the first week's file is not needed any more.
    [first_week] = tmp_path.rglob(f"{WEEKS[0]}/*.parquet")
    first_week.unlink()
    assert signatures.similar(first[[0, 1, 3]], second[[0, 1, 3]]).tolist() == [True, True, False]
