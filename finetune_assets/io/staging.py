"""Intermediate assets as Parquet files, written and read batch by batch, one file per materialization.

Each materialization of an (asset, week) is staged at ``assets/<asset>/<week>/<run id>.parquet``: a
run never writes where another run writes, and a file appears under its name only once complete, so
a reader never meets half-written rows. Which file a step reads is Dagster's to say (``staged_io``);
superseded files go by the retention rule. The store is a local folder, readable by its owner only,
or a bucket prefix (when a run's steps span machines).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from .background import WriteBehind
from .store import Store

BATCH_ROWS = 8_192
ASSETS_FOLDER = "assets"
SUFFIX = ".parquet"


def staged_path(store: Store, asset: str, week: str, run_id: str) -> str:
    return store.path(ASSETS_FOLDER, asset, week, f"{run_id}{SUFFIX}")


def staged_files(store: Store, asset: str, week: str) -> dict[str, str]:
    """The staged files of an (asset, week), by the id of the run that wrote them."""
    folder = store.path(ASSETS_FOLDER, asset, week)
    if not store.exists(folder):
        return {}
    names = (path.rsplit("/", 1)[-1] for path in store.files(folder))
    return {
        name[: -len(SUFFIX)]: store.path(ASSETS_FOLDER, asset, week, name) for name in names if name.endswith(SUFFIX)
    }


@dataclass(frozen=True)
class StagedTable:
    """A staged materialization, as a step reads it: streamed in batches, never loaded whole."""

    store: Store
    path: str

    @property
    def url(self) -> str:
        return self.store.url(self.path)

    def schema(self) -> pa.Schema:
        return read_schema(self.store, self.path)

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        return read_batches(self.store, self.path, columns)


@dataclass
class StagedRows:
    """What an intermediate asset returns: its rows, produced as they are written, and the metadata
    that only the written rows can tell (asked for once the last batch is written)."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    metadata: Callable[[], Mapping[str, object]]
    # What the write is, for an error message: "extracting incidents for week 2026-11-09".
    action: str


def write_batches(store: Store, path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Writes the batches to ``path`` atomically and returns the row count. A producer with a ``close``
    (a generator) is closed however the write ends: one left suspended when the write fails would hold
    its database query open until garbage collection, which then blocks on the unfinished stream."""
    rows = 0
    try:
        # Encoding and writing (Arrow, which releases the GIL) run beside the making of the next batch.
        with BatchFileWriter(store, path, schema) as writer, WriteBehind() as behind:
            for batch in batches:
                behind.submit(writer.write, batch)
                rows += batch.num_rows
    finally:
        if close := getattr(batches, "close", None):
            close()
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


def read_schema(store: Store, path: str) -> pa.Schema:
    return pq.read_schema(path, filesystem=store.fs)


def read_batches(store: Store, path: str, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(path, filesystem=store.fs) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)
