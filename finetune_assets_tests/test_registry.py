"""The audit row: inserted once per export file, even when the step is retried."""

from finetune_assets.registry import AuditRow, record_export
from finetune_assets.resources import AiopsDatabase

from .seed import audit_rows


def _row(path: str) -> AuditRow:
    return AuditRow(
        source_ids=["0b9d7a0e-0000-4000-8000-000000000001"],
        file_path=path,
        record_count=1,
        size_bytes=10,
        checksum_sha256="a" * 64,
        metadata={"partition_key": "2026-11-09", "run_id": "r1"},
    )


def test_a_retried_registration_finds_its_row_instead_of_inserting_another(database_url):
    database = AiopsDatabase(url=database_url)
    first_id, first_inserted = record_export(database, _row("/exports/2026-11-09/a.jsonl"))
    again_id, again_inserted = record_export(database, _row("/exports/2026-11-09/a.jsonl"))
    other_id, _ = record_export(database, _row("/exports/2026-11-09/b.jsonl"))
    assert (first_inserted, again_inserted) == (True, False)
    assert again_id == first_id != other_id
    rows = audit_rows(database_url)
    assert [row["file_path"] for row in rows] == ["/exports/2026-11-09/a.jsonl", "/exports/2026-11-09/b.jsonl"]
    assert rows[0]["created_at"] is not None
    assert list(rows[0]["source_ids"]) == ["0b9d7a0e-0000-4000-8000-000000000001"]


def test_the_table_is_created_with_the_platform_schema(postgres_url):
    from sqlalchemy import create_engine, text

    record_export(AiopsDatabase(url=postgres_url), _row("/x.jsonl"))
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        types = dict(
            connection.execute(
                text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'finetune_exports'")
            ).all()
        )
        identity = connection.execute(
            text("SELECT is_identity FROM information_schema.columns WHERE table_name = 'finetune_exports' AND column_name = 'id'")
        ).scalar()
    engine.dispose()
    assert types == {
        "id": "bigint",
        "export_type": "text",
        "source_table": "text",
        "source_ids": "ARRAY",
        "file_path": "text",
        "record_count": "integer",
        "size_bytes": "bigint",
        "checksum_sha256": "character",
        "metadata": "jsonb",
        "created_at": "timestamp with time zone",
    }
    assert identity == "YES"
