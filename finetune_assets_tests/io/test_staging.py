"""Staged Parquet: a file appears whole or not at all, even when the write fails on the second thread."""

import pyarrow as pa
import pytest

from finetune_assets.io.staging import read_batches, write_batches
from finetune_assets.io.store import Store

SCHEMA = pa.schema([("n", pa.int64())])


def test_batches_are_written_and_read_back_whole(tmp_path):
    store = Store.from_url(str(tmp_path), private=True)
    path = store.path("assets", "a", "2026-11-09", "r.parquet")
    batches = [pa.record_batch([pa.array(range(i, i + 10))], schema=SCHEMA) for i in range(0, 50, 10)]
    assert write_batches(store, path, SCHEMA, batches) == 50
    assert [value for batch in read_batches(store, path) for value in batch.column("n").to_pylist()] == list(range(50))


def test_a_write_that_fails_on_the_write_behind_thread_publishes_nothing(tmp_path):
    store = Store.from_url(str(tmp_path))
    path = store.path("a.parquet")
    good = pa.record_batch([pa.array([1, 2])], schema=SCHEMA)
    # The writer (on the second thread) refuses a batch of another schema; the caller gets its error.
    bad = pa.record_batch([pa.array(["x"])], names=["n"])
    with pytest.raises(ValueError, match="schema"):
        write_batches(store, path, SCHEMA, [good, good, bad, good])
    assert [item.name for item in tmp_path.iterdir()] == []  # no file, no temporary file


def test_a_producer_that_fails_mid_way_publishes_nothing(tmp_path):
    store = Store.from_url(str(tmp_path))

    def batches():
        yield pa.record_batch([pa.array([1])], schema=SCHEMA)
        raise ConnectionResetError("the database went away mid-stream")

    with pytest.raises(ConnectionResetError):
        write_batches(store, store.path("a.parquet"), SCHEMA, batches())
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_closes_its_producer_at_once(tmp_path):
    """A producer left suspended would keep its database stream open until garbage collection."""
    store = Store.from_url(str(tmp_path))
    closed = []

    def batches():
        try:
            while True:
                yield pa.record_batch([pa.array(["not a number"])], names=["n"])
        finally:
            closed.append(True)

    produced = batches()
    with pytest.raises(ValueError, match="schema"):
        write_batches(store, store.path("a.parquet"), SCHEMA, produced)
    assert closed == [True]
    assert list(tmp_path.iterdir()) == []
