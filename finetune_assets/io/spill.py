"""Pairs put back in export order through small spill files: one bucket of ordinals in memory at a
time, however large the week. The files live and die within one step, on the local disk."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from ..core.staged_tables import ORDERED_PAIRS

BUCKET_ROWS = 8_192


class OrdinalBuckets:
    """Spills pairs into files by ordinal range, then reads them back in ordinal order.

    Memory holds one bucket (``BUCKET_ROWS`` pairs) at a time, however large the week.
    """

    def __init__(self, directory: Path, bucket_rows: int = BUCKET_ROWS):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.bucket_rows = bucket_rows
        self._writers: dict[int, ipc.RecordBatchFileWriter] = {}

    def _path(self, bucket: int) -> Path:
        return self.directory / f"bucket-{bucket:06d}.arrow"

    def add(self, batch: pa.RecordBatch) -> None:
        buckets = pc.divide(batch.column("ordinal"), self.bucket_rows)
        for bucket in pc.unique(buckets).to_pylist():
            part = batch.filter(pc.equal(buckets, bucket))
            if bucket not in self._writers:
                self._writers[bucket] = ipc.new_file(self._path(bucket), ORDERED_PAIRS)
            self._writers[bucket].write_batch(part)

    def in_order(self, keep: np.ndarray) -> Iterator[pa.RecordBatch]:
        """Pairs in ordinal order, without the ordinal, keeping only ordinals marked in ``keep``."""
        for writer in self._writers.values():
            writer.close()
        for bucket in sorted(self._writers):
            with pa.memory_map(str(self._path(bucket))) as source:
                table = ipc.open_file(source).read_all().sort_by("ordinal")
            mask = keep[table.column("ordinal").to_numpy()]
            yield from table.filter(pa.array(mask)).drop_columns(["ordinal"]).to_batches()
            self._path(bucket).unlink()
