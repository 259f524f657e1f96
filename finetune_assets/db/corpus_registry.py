"""What the corpus reads from ``finetune_exports``: the registered weekly snapshots it is built from,
and the latest corpus version (whose shards it links and whose sides it keeps); and the export types
of its own rows. A version is registered as one row per shard it wrote and one manifest row that
lists all of its shards, those it linked from earlier versions included (by the URL of the row that
registered their bytes)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import func, select

from ..core.corpus_card import CorpusInput
from .connection import Database
from .registry import EXPORT_TYPE
from .schema import finetune_exports

CORPUS_PREFIX = "corpus_"
MANIFEST_TYPE = "corpus_manifest"
CORPUS_LOCK_KEY = 0x46544350  # "FTCP"


def corpus_export_type(trainer_format: str, split: str) -> str:
    return f"{CORPUS_PREFIX}{trainer_format}_{split}"


@dataclass(frozen=True)
class CorpusRecord:
    """A registered corpus version: its id, what it was built from and its shards (as its manifest row
    lists them)."""

    version: str
    inputs_digest: str
    folder_url: str
    primary_format: str
    shards: list[dict]  # path (in the folder), week, format, split, records, size_bytes, sha256, registered_as


@contextmanager
def one_build_at_a_time(database: Database) -> Iterator[bool]:
    """Builds of the corpus take turns, however they were started (the sensor, the UI, the CLI on an
    instance of its own): a second build waits, bounded by the statement timeout, then finds the version
    the first registered. Yields whether the turn is exclusive: the embedded SQLite demo has no such lock."""
    with database.transaction("waiting for another corpus build to finish") as connection:
        if connection.dialect.name == "postgresql":
            # The wait is for a whole build, not for a row: the statement timeout bounds it.
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
            connection.execute(select(func.pg_advisory_xact_lock(CORPUS_LOCK_KEY)))
        yield connection.dialect.name == "postgresql"


def _rows(database: Database, action: str, query) -> list[dict]:
    with database.read_only(action) as connection:
        if not connection.dialect.has_table(connection, finetune_exports.name):
            return []
        return [dict(row) for row in connection.execute(query).mappings()]


def _latest_per_week(snapshots) -> dict[str, dict]:
    """Of each week's snapshot rows, the one registered last (a week exported twice has two)."""
    latest: dict[str, dict] = {}
    for row in snapshots:
        week = row["metadata"]["partition_key"]
        if week not in latest or row["id"] > latest[week]["id"]:
            latest[week] = row
    return latest


@dataclass(frozen=True)
class RegisteredInputs:
    inputs: list[CorpusInput]
    elsewhere: list[int]  # ids of snapshot rows naming a file outside this store, left out


def registered_inputs(
    database: Database, last_weeks: int | None, in_store: Callable[[str], bool] = lambda url: True
) -> RegisteredInputs:
    """Per week, its latest registered snapshot in this store (``in_store`` says which file URLs are),
    weeks oldest first, with the split its trainer files were cut by; only the last ``last_weeks`` weeks
    when given. A week whose export failed its checks has no row, so it is not here; a week exported
    under another FINETUNE_EXPORT_PATH against the same database counts only with its exports here."""
    columns = [finetune_exports.c[name] for name in ("id", "export_type", "file_path", "record_count")]
    query = select(*columns, finetune_exports.c.checksum_sha256, finetune_exports.c.metadata).where(
        finetune_exports.c.export_type.not_like(f"{CORPUS_PREFIX}%")
    )
    rows = _rows(database, "reading the registered weekly exports from finetune_exports", query)
    split_of = {
        row["metadata"].get("snapshot_file_path"): row["metadata"]
        for row in rows
        if row["export_type"] != EXPORT_TYPE and row["metadata"]
    }
    snapshots = [row for row in rows if row["export_type"] == EXPORT_TYPE]
    elsewhere = {row["id"] for row in snapshots if not in_store(row["file_path"])}
    latest = _latest_per_week(row for row in snapshots if row["id"] not in elsewhere)
    weeks = sorted(latest)[-last_weeks:] if last_weeks else sorted(latest)
    inputs = []
    for week in weeks:
        row = latest[week]
        split = split_of.get(row["file_path"], {})
        inputs.append(
            CorpusInput(
                week=week,
                file_url=row["file_path"],
                sha256=row["checksum_sha256"],
                records=row["record_count"],
                audit_row_id=row["id"],
                split_key=split.get("split_key", "alertname"),
                validation_fraction=float(split.get("validation_fraction", 0.0)),
            )
        )
    return RegisteredInputs(inputs, sorted(elsewhere))


def latest_corpus(database: Database) -> CorpusRecord | None:
    """The most recently registered corpus version, or None before the first."""
    newest = _newest_manifest(database)
    if newest is None:
        return None
    return CorpusRecord(
        newest["corpus_version"], newest["inputs_digest"], newest["folder"], newest["primary_format"], newest["shards"]
    )


def corpus_sides(database: Database, record: CorpusRecord) -> dict[str, pa.Array]:
    """The evidence ids of a version's pairs, by side, as the audit rows of its shards hold them."""
    sides = {}
    for split in ("train", "validation"):
        urls = [
            s["registered_as"] for s in record.shards if s["format"] == record.primary_format and s["split"] == split
        ]
        query = select(finetune_exports.c.source_ids).where(finetune_exports.c.file_path.in_(urls))
        found = _rows(database, f"reading the {split} ids of corpus {record.version}", query) if urls else []
        sides[split] = pa.array([value for row in found for value in row["source_ids"]], pa.string())
    return sides


@dataclass(frozen=True)
class VersionRows:
    manifest: dict  # the manifest's audit row
    shards: dict[str, dict]  # the audit rows of its shards (``source_ids`` included), by file URL


def version_rows(database: Database, version: str) -> VersionRows | None:
    """The manifest row of one corpus version and the rows that registered its shards' bytes."""
    query = select(finetune_exports).where(
        finetune_exports.c.export_type == MANIFEST_TYPE,
        finetune_exports.c.metadata["corpus_version"].as_string() == version,
    )
    manifests = _rows(database, f"reading the manifest row of corpus {version}", query)
    if not manifests:
        return None
    urls = [shard["registered_as"] for shard in manifests[0]["metadata"]["shards"]]
    query = select(finetune_exports).where(finetune_exports.c.file_path.in_(urls))
    shards = _rows(database, f"reading the shard rows of corpus {version}", query) if urls else []
    return VersionRows(manifests[0], {row["file_path"]: row for row in shards})


def _newest_manifest(database: Database) -> dict | None:
    """The metadata of the manifest row registered last: it names the latest version."""
    query = (
        select(finetune_exports.c.metadata)
        .where(finetune_exports.c.export_type == MANIFEST_TYPE)
        .order_by(finetune_exports.c.id.desc())
        .limit(1)
    )
    rows = _rows(database, "reading the latest corpus version from finetune_exports", query)
    return rows[0]["metadata"] if rows else None


def registered_versions(database: Database) -> set[str]:
    """Every corpus version that has audit rows: only these exist, whatever folders the store holds."""
    version = finetune_exports.c.metadata["corpus_version"].as_string()
    query = select(version.label("version")).where(finetune_exports.c.export_type.like(f"{CORPUS_PREFIX}%")).distinct()
    return {row["version"] for row in _rows(database, "reading the registered corpus versions", query)}


def latest_version(database: Database) -> str | None:
    newest = _newest_manifest(database)
    return newest["corpus_version"] if newest else None


def week_figures(database: Database) -> dict[str, dict]:
    """Per week, the counts its latest registered snapshot's audit row holds."""
    query = select(finetune_exports.c.id, finetune_exports.c.metadata).where(
        finetune_exports.c.export_type == EXPORT_TYPE
    )
    latest = _latest_per_week(_rows(database, "reading the weeks' counts from finetune_exports", query))
    return {week: row["metadata"] for week, row in latest.items()}
