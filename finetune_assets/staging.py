"""Intermediate assets as Parquet files, written and read batch by batch.

Each (asset, week) lives at a fixed path, so a downstream step finds its input from the
partition key alone, in any process, and re-materializing a week replaces it whole.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 8_192
# Arrow's default mimalloc pool keeps what each reader thread freed; the system allocator gives it
# back, which keeps a step's resident memory flat from a small week to a large one.
pa.set_memory_pool(pa.system_memory_pool())


def staged_path(root: str | Path, asset_name: str, partition_key: str) -> Path:
    return Path(root) / asset_name / f"{partition_key}.parquet"


def write_batches(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Writes the batches to ``path`` atomically and returns the row count."""
    rows = 0
    with BatchFileWriter(path, schema) as writer:
        for batch in batches:
            writer.write(batch)
            rows += batch.num_rows
    return rows


class BatchFileWriter:
    """Appends batches to a Parquet file that appears under its name only once closed without error."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._temp_path = self.path.with_name(f".{self.path.name}.partial")
        self._writer = pq.ParquetWriter(self._temp_path, schema, compression="lz4")

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def __enter__(self) -> "BatchFileWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()
        if exc_type is None:
            os.replace(self._temp_path, self.path)
        else:
            self._temp_path.unlink(missing_ok=True)


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"upstream data {path} is missing: materialize the upstream asset for this week first")
    return path


def read_schema(path: Path) -> pa.Schema:
    return pq.read_schema(_require(path))


def read_batches(path: Path, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(_require(path)) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)

