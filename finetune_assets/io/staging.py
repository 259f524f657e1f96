"""Intermediate assets as Parquet files, written and read batch by batch.

Each (asset, week) lives at a fixed path in the staging store (a local folder, or the object store
when runs span machines), so a downstream step finds its input from the asset and the partition key
alone, in any process on any host, and re-materializing a week replaces it whole.
"""

from collections.abc import Iterable, Iterator
from contextlib import suppress

import pyarrow as pa
import pyarrow.parquet as pq

from .background import WriteBehind
from .store import Store

BATCH_ROWS = 8_192


def staged_path(store: Store, asset: str, partition_key: str) -> str:
    """Where an asset's rows for a week are staged; ``asset`` is the asset key as a path (``training_pairs``)."""
    return store.path(asset, f"{partition_key}.parquet")


def write_batches(store: Store, path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Writes the batches to ``path`` atomically and returns the row count."""
    rows = 0
    # Encoding and writing (Arrow, which releases the GIL) run beside the making of the next batch.
    with BatchFileWriter(store, path, schema) as writer, WriteBehind() as behind:
        for batch in batches:
            behind.submit(writer.write, batch)
            rows += batch.num_rows
    return rows


class BatchFileWriter:
    """Appends batches to a Parquet file that appears under its name only once closed without error."""

    def __init__(self, store: Store, path: str, schema: pa.Schema):
        self._writing = store.writing(path, replace=True)
        self._schema = schema
        self._writer = None

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def __enter__(self) -> "BatchFileWriter":
        self._writer = pq.ParquetWriter(self._writing.__enter__(), self._schema, compression="lz4")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._writer.close()
        else:
            # Closed here, before the file is discarded: left to the garbage collector, it would
            # write its footer into a file that is already gone.
            with suppress(Exception):
                self._writer.close()
        return self._writing.__exit__(exc_type, exc, tb)


def _require(store: Store, path: str) -> str:
    if not store.exists(path):
        raise FileNotFoundError(
            f"upstream data {store.url(path)} is missing: materialize the upstream asset for this week first"
        )
    return path


def read_schema(store: Store, path: str) -> pa.Schema:
    return pq.read_schema(_require(store, path), filesystem=store.fs)


def read_batches(store: Store, path: str, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(_require(store, path), filesystem=store.fs) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)
