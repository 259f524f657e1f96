"""The audit rows in ``finetune_exports``: one per export file, inserted once."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.schema import CreateTable

from ..core.records import ExportManifest, TrainerFile
from ..io.staging import read_batches
from ..io.store import Store
from .connection import Database
from .schema import finetune_exports

EXPORT_TYPE = "evidence_snapshot"
SOURCE_TABLE = "incident_evidence"
# Serializes concurrent weeks creating the table or registering, so the existence checks hold.
REGISTRY_LOCK_KEY = 0x46545845  # "FTXE"
# Array elements that need no quoting inside a PostgreSQL array literal (evidence ids are UUIDs).
PLAIN_ELEMENT = "^[0-9A-Za-z_.:-]+$"


@dataclass(frozen=True)
class AuditRow:
    ids_store: Store
    ids_path: str | None  # Parquet file of (evidence_id, validation) in snapshot order; None: no ids
    file_path: str
    record_count: int
    size_bytes: int
    checksum_sha256: str
    metadata: dict
    export_type: str = EXPORT_TYPE
    source_table: str = SOURCE_TABLE
    split: str | None = None  # a trainer file holds only the ids of its side of the split

    def source_id_batches(self) -> Iterator[pa.Array]:
        if self.ids_path is None:
            return
        for batch in read_batches(self.ids_store, self.ids_path, ["evidence_id", "validation"]):
            ids = batch.column("evidence_id")
            if self.split is not None:
                validation = batch.column("validation")
                ids = ids.filter(validation if self.split == "validation" else pc.invert(validation))
            yield ids


def audit_rows_of(manifest: ExportManifest, staging: Store, run_id: str, source: str) -> list[AuditRow]:
    """The snapshot's row, then one row per trainer file. ``source`` names the database the rows came
    from (``demo`` for the embedded one), never with a secret."""
    stats, snapshot = manifest.stats, manifest.snapshot
    common = {
        "partition_key": manifest.partition_key,
        "window_start": manifest.window_start,
        "window_end": manifest.window_end,
        "run_id": run_id,
        "export_run_id": manifest.run_id,
        "selected": stats.selected,
        "skipped": stats.skipped_no_output,
        "duplicates": stats.duplicates,
        "exported": stats.exported,
        "redactions": stats.as_dict()["redactions"],
        # Held back by the scanner: evidence ids and the kinds found, never the text.
        "withheld": stats.withheld,
        "source": source,
    }
    ids_path = manifest.source_ids_path
    rows = [AuditRow(staging, ids_path, snapshot.url, snapshot.records, snapshot.size_bytes, snapshot.sha256, common)]
    for file in manifest.trainer_files:
        split_metadata = {
            "format": file.trainer_format,
            "split": file.split,
            "split_key": manifest.split_key,
            "validation_fraction": manifest.validation_fraction,
            "snapshot_file_path": snapshot.url,
        }
        rows.append(trainer_file_row(staging, ids_path, file, {**common, **split_metadata}, file.export_type))
    return rows


def trainer_file_row(ids_store: Store, ids_path: str, file: TrainerFile, metadata: dict, export_type: str) -> AuditRow:
    """The row of one side's file: its ids are those of that side, in the order of the ids file."""
    return AuditRow(
        ids_store,
        ids_path,
        file.url,
        file.records,
        file.size_bytes,
        file.sha256,
        metadata,
        export_type=export_type,
        split=file.split,
    )


def record_exports(database: Database, rows: list[AuditRow]) -> list[tuple[AuditRow, int, bool]]:
    """Inserts an export's rows in one transaction, all or none, skipping any whose file already has
    a row (a retried step finds them); returns each row with its id and whether it was inserted."""
    recorded = []
    with database.transaction("recording the export in finetune_exports") as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(REGISTRY_LOCK_KEY)))
        # Only when missing: a role with SELECT and INSERT on an existing table, and no CREATE on the
        # schema, registers without any DDL.
        if not connection.dialect.has_table(connection, finetune_exports.name):
            connection.execute(CreateTable(finetune_exports, if_not_exists=True))
        for row in rows:
            existing = _row_id(connection, row.file_path)
            if existing is None:
                _insert(connection, row)
            recorded.append((row, existing or _row_id(connection, row.file_path), existing is None))
    return recorded


def _insert(connection: Connection, row: AuditRow) -> None:
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy_row(connection, row)
    else:
        _insert_row(connection, row)


def _row_id(connection: Connection, file_path: str) -> int | None:
    return connection.execute(select(finetune_exports.c.id).where(finetune_exports.c.file_path == file_path)).scalar()


def _insert_row(connection: Connection, row: AuditRow) -> None:
    source_ids = [value for array in row.source_id_batches() for value in array.to_pylist()]
    connection.execute(
        insert(finetune_exports).values(
            export_type=row.export_type,
            source_table=row.source_table,
            source_ids=source_ids,
            file_path=row.file_path,
            record_count=row.record_count,
            size_bytes=row.size_bytes,
            checksum_sha256=row.checksum_sha256,
            metadata=row.metadata,
        )
    )


def _copy_text(value: str) -> str:
    """A field of COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _array_elements(ids: pa.Array) -> str:
    if pc.all(pc.match_substring_regex(ids, PLAIN_ELEMENT)).as_py():
        return ",".join(ids.to_pylist())
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in ids.to_pylist())
    return ",".join(quoted)


def _copy_row(connection: Connection, row: AuditRow) -> None:
    """COPY streams the id array in pieces: a week of a million ids never sits in memory as one value."""
    head = "\t".join(_copy_text(value) for value in (row.export_type, row.source_table)) + "\t{"
    tail = "}\t" + "\t".join(
        _copy_text(str(value))
        for value in (
            row.file_path,
            row.record_count,
            row.size_bytes,
            row.checksum_sha256,
            json.dumps(row.metadata, ensure_ascii=False),
        )
    )
    columns = "export_type, source_table, source_ids, file_path, record_count, size_bytes, checksum_sha256, metadata"
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY finetune_exports ({columns}) FROM STDIN") as copy:
        copy.write(head)
        separator = ""
        for ids in row.source_id_batches():
            if len(ids):
                copy.write(separator + _copy_text(_array_elements(ids)))
                separator = ","
        copy.write(tail + "\n")


class IdsDigest:
    """Count and sha256 of a list of ids joined by newlines, fed a batch at a time: two lists of a
    million ids compare without either being held in memory."""

    def __init__(self):
        self.count, self._digest = 0, hashlib.sha256()

    def update(self, ids: list[str]) -> None:
        if ids:
            self._digest.update((("\n" if self.count else "") + "\n".join(ids)).encode("utf-8"))
            self.count += len(ids)

    @property
    def value(self) -> tuple[int, str]:
        return self.count, self._digest.hexdigest()


def registered_row(database: Database, file_path: str) -> dict | None:
    """The audit row of one file as stored, with ``source_ids`` as (count, sha256): see IdsDigest."""
    columns = [
        finetune_exports.c[name] for name in ("id", "export_type", "record_count", "size_bytes", "checksum_sha256")
    ]
    with database.read_only(f"reading the audit row of {file_path}") as connection:
        if not connection.dialect.has_table(connection, finetune_exports.name):
            return None
        if connection.dialect.name == "postgresql":
            ids = finetune_exports.c.source_ids
            joined = func.array_to_string(ids, "\n")
            summary = [
                func.cardinality(ids).label("id_count"),
                func.encode(func.sha256(func.convert_to(joined, "UTF8")), "hex").label("ids_sha256"),
            ]
        else:
            summary = [finetune_exports.c.source_ids]
        query = select(*columns, *summary).where(finetune_exports.c.file_path == file_path)
        row = connection.execute(query).mappings().first()
    if row is None:
        return None
    row = dict(row)
    if "source_ids" in row:
        digest = IdsDigest()
        digest.update(list(row.pop("source_ids")))
        row["id_count"], row["ids_sha256"] = digest.value
    return row
