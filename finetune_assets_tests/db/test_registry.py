"""The audit row: inserted once per export file, even when the step is retried."""

import pyarrow as pa
import pytest

from finetune_assets.db.connection import Database
from finetune_assets.db.registry import AuditRow, record_exports
from finetune_assets.io.staging import write_batches
from finetune_assets.io.store import Store

from ..seed import audit_rows

IDS_SCHEMA = pa.schema([("evidence_id", pa.string()), ("validation", pa.bool_())])


def _ids(ids: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"evidence_id": ids, "validation": [False] * len(ids)}, IDS_SCHEMA)


@pytest.fixture
def ids_file(tmp_path):
    store = Store.from_url(str(tmp_path))
    write_batches(store, store.path("ids.parquet"), IDS_SCHEMA, [_ids(["0b9d7a0e-0000-4000-8000-000000000001"])])
    return store, store.path("ids.parquet")


def _row(path: str, ids_file) -> AuditRow:
    store, ids_path = ids_file
    return AuditRow(
        ids_store=store,
        ids_path=ids_path,
        file_path=path,
        record_count=1,
        size_bytes=10,
        checksum_sha256="a" * 64,
        metadata={"partition_key": "2026-11-09", "run_id": "r1"},
    )


def test_a_retried_registration_finds_its_row_instead_of_inserting_another(database_url, ids_file):
    database = Database(database_url)
    [(_, first_id, first_inserted)] = record_exports(database, [_row("/exports/2026-11-09/a.jsonl", ids_file)])
    [(_, again_id, again_inserted)] = record_exports(database, [_row("/exports/2026-11-09/a.jsonl", ids_file)])
    [(_, other_id, _)] = record_exports(database, [_row("/exports/2026-11-09/b.jsonl", ids_file)])
    assert (first_inserted, again_inserted) == (True, False)
    assert again_id == first_id != other_id
    rows = audit_rows(database_url)
    assert [row["file_path"] for row in rows] == ["/exports/2026-11-09/a.jsonl", "/exports/2026-11-09/b.jsonl"]
    assert rows[0]["created_at"] is not None
    assert list(rows[0]["source_ids"]) == ["0b9d7a0e-0000-4000-8000-000000000001"]


def test_copied_rows_survive_special_characters_and_many_batches(database_url, tmp_path):
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(2500)] + ['odd "id", with {braces} \\ and\ttab']
    store = Store.from_url(str(tmp_path))
    path = store.path("many.parquet")
    write_batches(store, path, IDS_SCHEMA, [_ids(ids[i : i + 1000]) for i in range(0, len(ids), 1000)])
    row = AuditRow(
        ids_store=store,
        ids_path=path,
        file_path="/exports/tab\there/ü.jsonl",
        record_count=2501,
        size_bytes=1,
        checksum_sha256="b" * 64,
        metadata={"note": 'quote " backslash \\ 中文'},
    )
    record_exports(Database(database_url), [row])
    [stored] = audit_rows(database_url)
    assert list(stored["source_ids"]) == ids
    assert stored["file_path"] == row.file_path and stored["metadata"] == row.metadata


def test_the_table_is_created_with_the_platform_schema(postgres_url, ids_file):
    from sqlalchemy import create_engine, text

    record_exports(Database(postgres_url), [_row("/x.jsonl", ids_file)])
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        types = dict(
            connection.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'finetune_exports'"
                )
            ).all()
        )
        identity = connection.execute(
            text(
                "SELECT is_identity FROM information_schema.columns "
                "WHERE table_name = 'finetune_exports' AND column_name = 'id'"
            )
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
