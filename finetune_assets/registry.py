"""The audit row in ``finetune_exports``: one per export file, inserted once."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.schema import CreateTable

from .resources import AiopsDatabase
from .schema import finetune_exports

EXPORT_TYPE = "evidence_snapshot"
SOURCE_TABLE = "incident_evidence"
# Serializes concurrent weeks creating the table or registering, so the existence checks hold.
REGISTRY_LOCK_KEY = 0x46545845  # "FTXE"


@dataclass(frozen=True)
class AuditRow:
    source_ids: list[str]
    file_path: str
    record_count: int
    size_bytes: int
    checksum_sha256: str
    metadata: dict
    export_type: str = EXPORT_TYPE
    source_table: str = SOURCE_TABLE


def record_export(database: AiopsDatabase, row: AuditRow) -> tuple[int, bool]:
    """Inserts the row unless one for the same file exists; returns (row id, whether it was inserted)."""
    with database.transaction("recording the export in finetune_exports") as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(REGISTRY_LOCK_KEY)))
        connection.execute(CreateTable(finetune_exports, if_not_exists=True))
        existing = connection.execute(
            select(finetune_exports.c.id).where(finetune_exports.c.file_path == row.file_path)
        ).scalar()
        if existing is not None:
            return existing, False
        inserted = connection.execute(
            insert(finetune_exports)
            .values(
                export_type=row.export_type,
                source_table=row.source_table,
                source_ids=row.source_ids,
                file_path=row.file_path,
                record_count=row.record_count,
                size_bytes=row.size_bytes,
                checksum_sha256=row.checksum_sha256,
                metadata=row.metadata,
            )
            .returning(finetune_exports.c.id)
        ).scalar_one()
        return inserted, True
