"""Intermediate assets as Parquet files, written and read batch by batch, in a folder of the run's own.

A run stages each (asset, week) under ``runs/<week>/<run>/``, where ``<run>`` is the run's root run
id: its re-executions (which share that root) find what it staged, and no other run ever does, so two
runs of one week may go side by side. The folder is a local one or a bucket prefix (when a run's
steps span machines); on a local disk it is readable by its owner only.
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from .background import WriteBehind
from .store import Store

BATCH_ROWS = 8_192
EXPORT_POINTER = "jsonl_export.json"


class MissingUpstream(FileNotFoundError):
    """An input that this run (or the run it re-executes) did not stage."""


@dataclass(frozen=True)
class RunStaging:
    """One run's staged files for one week."""

    store: Store
    week: str
    run: str

    @classmethod
    def of(cls, staging: Store, week: str, run: str) -> "RunStaging":
        return cls(staging, week, run)

    @property
    def folder(self) -> str:
        return self.store.path("runs", self.week, self.run)

    def path(self, asset: str) -> str:
        """Where an asset's rows are staged; ``asset`` is the asset key as a path (``training_pairs``)."""
        return self.store.path("runs", self.week, self.run, f"{asset}.parquet")

    def require(self, asset: str) -> str:
        path = self.path(asset)
        if not self.store.exists(path):
            raise MissingUpstream(
                f"{asset} for week {self.week} was not staged by this run ({self.run}): materialize it in the "
                "same run (select successful_evidence* for the whole lineage), or re-execute the run that staged it"
            )
        return path

    def remove(self, asset: str) -> None:
        self.store.remove(self.path(asset))

    def write_export_pointer(self, export: str) -> None:
        """Which export this run wrote for the week: its checks and its registration find it here."""
        self.store.write_text(
            self.store.path("runs", self.week, self.run, EXPORT_POINTER), json.dumps({"export": export}), replace=True
        )

    def export_pointer(self) -> str | None:
        path = self.store.path("runs", self.week, self.run, EXPORT_POINTER)
        return json.loads(self.store.read_text(path))["export"] if self.store.exists(path) else None

    def remove_export_pointer(self) -> None:
        self.store.remove(self.store.path("runs", self.week, self.run, EXPORT_POINTER))

    def remove_folder_if_empty(self) -> None:
        if self.store.exists(self.folder) and not self.store.files(self.folder):
            self.store.remove_tree(self.folder)

    def other_runs(self) -> list[str]:
        """The run folders of this week other than this run's."""
        names = [folder.rsplit("/", 1)[-1] for folder in self.store.folders(self.store.path("runs", self.week))]
        return [name for name in names if name != self.run]


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


def read_schema(store: Store, path: str) -> pa.Schema:
    return pq.read_schema(path, filesystem=store.fs)


def read_batches(store: Store, path: str, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(path, filesystem=store.fs) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)
