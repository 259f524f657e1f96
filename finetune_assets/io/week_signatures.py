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

from ..core.corpus_card import CorpusInput
from ..core.digests import DIGEST_SIZE, EXACT_DIGEST, pair_digests
from ..core.export_report import ALPACA_SCHEMA
from ..core.near_duplicates import Banding, near_duplicate_signatures
from ..core.splits import split_column, validation_mask
from .export_reader import Reading, read_json_lines
from .store import Store

SIGNATURE_FORMAT = 5


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
            "exact": EXACT_DIGEST,
            "banding": banding.as_dict() if banding else None,
            "split": [item.split_key, item.validation_fraction],
        },
        sort_keys=True,
    )
    name = f"{item.sha256}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.arrow"
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
    keep_signatures(staging, item, banding, compute_signatures(exports, path, item, banding))


def keep_signatures(staging: Store, item: CorpusInput, banding: Banding | None, table: pa.Table) -> None:
    with staging.writing(signature_path(staging, item, banding), replace=True) as handle:
        # An Arrow file, uncompressed: hashes do not compress, and a plan reads each week's columns back
        # as they are (Parquet's decoding took a tenth of a plan, and its encoding most of a week's write).
        with pa.ipc.new_file(handle, table.schema) as writer:
            writer.write_table(table)


def read_signatures(
    staging: Store, item: CorpusInput, banding: Banding | None, columns=("evidence_id", "exact", "validation")
) -> pa.Table:
    """The evidence ids, exact keys and sides (or the ``columns`` named); the bands and shingle sets are
    read a week at a time as the plan asks for them (``WeekSignatures``)."""
    path = signature_path(staging, item, banding)
    # A local file is mapped, so only the named columns are read; elsewhere the file is read whole.
    with pa.memory_map(path) if staging.is_local else staging.open(path) as source:
        table = pa.ipc.open_file(source).read_all()
        # Copied out: mapped, the columns would outlive the mapping; read, a batch's columns share one
        # buffer, which a column kept for the whole plan (the exact keys) would keep whole.
        return pa.table({name: _copied(table.column(name)) for name in columns})


def _copied(column: pa.ChunkedArray) -> pa.Array:
    return pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], column.type)
