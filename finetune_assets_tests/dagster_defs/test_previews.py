"""The preview tap the assets hand the IO manager: what it keeps, and that closing it reaches the producer."""

import pyarrow as pa
import pytest

from finetune_assets.dagster_defs.previews import BatchTap
from finetune_assets.io.staging import write_batches
from finetune_assets.io.store import Store

SCHEMA = pa.schema([("n", pa.int64())])


def test_a_failed_write_through_the_preview_tap_closes_the_producer_behind_it(tmp_path):
    """The assets hand the IO manager a BatchTap over their generator: closing must reach the generator."""
    store = Store.from_url(str(tmp_path))
    closed = []

    def batches():
        try:
            yield pa.record_batch([pa.array([1])], schema=SCHEMA)
            while True:
                yield pa.record_batch([pa.array(["not a number"])], names=["n"])
        finally:
            closed.append(True)

    tap = BatchTap(batches())
    with pytest.raises(ValueError, match="schema"):
        write_batches(store, store.path("a.parquet"), SCHEMA, tap)
    assert closed == [True] and tap.first.num_rows == 1
    assert list(tmp_path.iterdir()) == []
