"""A registered week's signatures: for each of its pairs, in file order, the evidence id, the exact
duplicate key, the side its week gave it and, when near duplicates are looked for, the LSH band keys,
and the shingle set (for the exact Jaccard check of candidates).

Computed once per file and kept in the staging store, named by the file's sha256 and the banding, so
a corpus that gains a week hashes that week only; a signature file that is missing (a cleaned
temporary folder) is computed again from the export, which stays the source of truth.
"""

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..core.arrays import distinct, gather_runs
from ..core.corpus_card import CorpusInput
from ..core.digests import DIGEST_SIZE, pair_digests
from ..core.export_report import ALPACA_SCHEMA
from ..core.near_duplicates import Banding, jaccard, near_duplicate_signatures
from ..core.splits import split_column, validation_mask
from .export_reader import Reading, read_json_lines
from .store import Store

SIGNATURE_FORMAT = 3


class ChangedExport(Exception):
    """A registered file no longer holds the bytes its audit row names."""


def signature_schema(bands: int) -> pa.Schema:
    fields = [
        ("evidence_id", pa.string()),
        ("exact", pa.binary(DIGEST_SIZE)),
        ("validation", pa.bool_()),
    ]
    if bands:
        fields += [
            ("bands", pa.list_(pa.uint64(), bands)),
            ("shingles", pa.list_(pa.uint32())),
        ]
    return pa.schema(fields)


def signature_path(staging: Store, item: CorpusInput, banding: Banding | None) -> str:
    key = json.dumps(
        {
            "format": SIGNATURE_FORMAT,
            "banding": banding.as_dict() if banding else None,
            "split": [item.split_key, item.validation_fraction],
        },
        sort_keys=True,
    )
    name = f"{item.sha256}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.parquet"
    return staging.path("corpus", "signatures", item.week, name)


def compute_signatures(exports: Store, path: str, item: CorpusInput, banding: Banding | None) -> pa.Table:
    """Reads the export as trainers would, checking its bytes against the audit row as it goes."""
    reading, parts = Reading(), []
    group, schema = split_column(item.split_key), signature_schema(banding.bands if banding else 0)
    for batch in read_json_lines(exports, path, ALPACA_SCHEMA, reading):
        metadata = batch.column("metadata")
        inputs, outputs = batch.column("input"), batch.column("output")
        columns = [
            pc.struct_field(metadata, "evidence_id"),
            pa.array(np.frombuffer(pair_digests(inputs, outputs), dtype=f"S{DIGEST_SIZE}"), pa.binary(DIGEST_SIZE)),
            pa.array(validation_mask(pc.struct_field(metadata, group), item.validation_fraction)),
        ]
        if banding is not None:
            texts = pc.binary_join_element_wise(inputs, outputs, "\n")
            signatures = near_duplicate_signatures(texts, banding)
            columns += [
                pa.FixedSizeListArray.from_arrays(pa.array(signatures.bands.reshape(-1)), banding.bands),
                pa.ListArray.from_arrays(pa.array(signatures.offsets, pa.int32()), pa.array(signatures.sets)),
            ]
        parts.append(pa.Table.from_arrays(columns, schema=schema))
    if reading.sha256 != item.sha256:
        raise ChangedExport(
            f"{exports.url(path)} (audit row {item.audit_row_id} of week {item.week}) no longer holds the registered "
            f"bytes: sha256 {reading.sha256}, registered {item.sha256}"
        )
    return pa.concat_tables(parts) if parts else schema.empty_table()


def has_signatures(staging: Store, item: CorpusInput, banding: Banding | None) -> bool:
    return staging.exists(signature_path(staging, item, banding))


def store_signatures(exports: Store, path: str, staging: Store, item: CorpusInput, banding: Banding | None) -> None:
    """Computes the week's signatures and keeps them. A plain function of picklable values, so a
    worker process can run it."""
    table = compute_signatures(exports, path, item, banding)
    with staging.writing(signature_path(staging, item, banding), replace=True) as handle:
        pq.write_table(table, handle, compression="lz4")


def read_signatures(staging: Store, item: CorpusInput, banding: Banding | None) -> pa.Table:
    """The evidence ids, exact keys and sides; the bands and shingle sets are read a week at a time as
    the plan asks for them (``WeekSignatures``)."""
    with staging.open(signature_path(staging, item, banding)) as handle:
        return pq.read_table(handle, columns=["evidence_id", "exact", "validation"])


class WeekSignatures:
    """The near-duplicate signatures of the corpus's rows (weeks back to back, ``starts`` the first row
    of each and, last, the row count), read from each week's file as the plan asks: a week's band keys
    and shingle sets once, when the plan reaches it, and the sets of the rows it keeps held after, since
    later weeks are compared with those only."""

    def __init__(self, staging: Store, inputs: list[CorpusInput], banding: Banding, starts: np.ndarray):
        self._staging, self._inputs, self._banding, self._starts = staging, inputs, banding, starts
        self._week: tuple[int, np.ndarray, np.ndarray] | None = None  # (week, its sets, their offsets)
        # The remembered rows (ascending), their sets back to back and the offsets into them; grown
        # in place, doubling, so each week adds its kept rows without copying the others.
        self._kept_rows = _Growing(np.int64)
        self._kept_offsets = _Growing(np.int64)
        self._kept_offsets.extend(np.zeros(1, dtype=np.int64))
        self._kept_values = _Growing(np.uint32)

    def _read(self, week: int, column: str) -> pa.Array:
        with self._staging.open(signature_path(self._staging, self._inputs[week], self._banding)) as handle:
            return pq.read_table(handle, columns=[column]).column(column).combine_chunks()

    def bands(self, first: int, end: int) -> np.ndarray:
        week = int(np.searchsorted(self._starts, first))
        assert self._starts[week] == first and self._starts[week + 1] == end, (first, end)
        column = self._read(week, "bands")
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), self._banding.bands)

    def _sets_of_week(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        if self._week is None or self._week[0] != week:
            column = self._read(week, "shingles")
            sizes = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
            values = column.flatten().to_numpy(zero_copy_only=False)
            self._week = (week, values, np.concatenate([[0], np.cumsum(sizes)]))
        return self._week[1], self._week[2]

    def remember(self, rows: np.ndarray) -> None:
        """The plan keeps these rows (of the week it planned last): later weeks may be compared with them."""
        if not len(rows):
            return
        week = int(np.searchsorted(self._starts, rows[0], "right")) - 1
        values, offsets = self._sets_of_week(week)
        local = rows - self._starts[week]
        sizes = offsets[local + 1] - offsets[local]
        self._kept_rows.extend(rows)
        self._kept_offsets.extend(self._kept_offsets.view[-1] + np.cumsum(sizes))
        self._kept_values.extend(gather_runs(values, offsets[local], sizes))

    def similar(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Exact Jaccard >= the threshold, for rows of the week planned now or remembered ones."""
        rows = distinct(np.concatenate([first, second]))
        kept_rows, kept_offsets, kept_values = self._kept_rows.view, self._kept_offsets.view, self._kept_values.view
        values, sizes = [], []
        for week in range(len(self._inputs)):
            low, high = np.searchsorted(rows, self._starts[week : week + 2])
            if low == high:
                continue
            wanted = rows[low:high]
            at = np.searchsorted(kept_rows, wanted)
            if (at < len(kept_rows)).all() and (kept_rows[np.minimum(at, len(kept_rows) - 1)] == wanted).all():
                source, offsets, local = kept_values, kept_offsets, at
            else:
                source, offsets = self._sets_of_week(week)
                local = wanted - self._starts[week]
            count = offsets[local + 1] - offsets[local]
            values.append(gather_runs(source, offsets[local], count))
            sizes.append(count)
        flat = np.concatenate(values)
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(sizes))]).astype(np.int64)
        similarity = jaccard(flat, offsets, np.searchsorted(rows, first), np.searchsorted(rows, second))
        return similarity >= self._banding.threshold


class _Growing:
    """A numpy array appended to in place: its buffer doubles when full."""

    def __init__(self, dtype):
        self._buffer, self._length = np.zeros(1024, dtype=dtype), 0

    @property
    def view(self) -> np.ndarray:
        return self._buffer[: self._length]

    def extend(self, values: np.ndarray) -> None:
        end = self._length + len(values)
        if end > len(self._buffer):
            grown = np.zeros(max(end, 2 * len(self._buffer)), dtype=self._buffer.dtype)
            grown[: self._length] = self.view
            self._buffer = grown
        self._buffer[self._length : end] = values
        self._length = end
