"""The check on the latest corpus version: the shards it wrote read back as trainers read them and held
against their audit rows; those it linked, held against their registered size."""

import hashlib
import posixpath

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from ...core.digests import DIGEST_SIZE, distinct_count, pair_digests
from ...core.line_formats import LINE_SCHEMAS
from ...dagster_defs.corpus_build import MANIFEST_NAME
from ...dagster_defs.failures import failing_as
from ...dagster_defs.resources import AiopsDatabase, ExportStorage
from ...db.corpus_registry import VersionRows, latest_version, version_rows
from ...io.export_reader import Reading, UnreadableExport, read_json_lines
from .export_files import bullets


def _read_back(exports, path: str, row: dict, digests: list) -> list[str]:
    """A shard written by this version, read as trainers read it and held against its audit row."""
    name = exports.url(path)
    if not exports.exists(path):
        return [f"{name} (audit row {row['id']}) is missing"]
    reading, lines = Reading(), 0
    trainer_format = row["metadata"]["format"]
    try:
        for batch in read_json_lines(exports, path, LINE_SCHEMAS[trainer_format], reading):
            lines += batch.num_rows
            if trainer_format == row["metadata"]["primary_format"]:
                digests.append(pair_digests(batch.column("input"), batch.column("output")))
    except UnreadableExport as error:
        return [str(error)]
    problems = []
    if reading.sha256 != row["checksum_sha256"]:
        problems.append(f"{name}: sha256 {reading.sha256}, registered {row['checksum_sha256']} (audit row {row['id']})")
    if lines != row["record_count"] or lines != len(row["source_ids"]):
        problems.append(
            f"{name}: {lines} lines, registered {row['record_count']} with {len(row['source_ids'])} evidence ids"
        )
    return problems


def _written_here(exports, folder: str, entry: dict) -> bool:
    """The version wrote this shard (its own audit row names it), rather than linked it."""
    return entry["registered_as"] == exports.url(posixpath.join(folder, entry["path"]))


def _shard_problems(exports, folder: str, rows: VersionRows, digests: list) -> list[str]:
    problems = []
    for entry in rows.manifest["metadata"]["shards"]:
        path = posixpath.join(folder, entry["path"])
        row = rows.shards.get(entry["registered_as"])
        if row is None:
            problems.append(f"{entry['path']}: no audit row registers {entry['registered_as']}")
        elif _written_here(exports, folder, entry):
            problems += _read_back(exports, path, row, digests)
        # Linked: its bytes were read back when the version that wrote them was checked.
        elif not exports.exists(path) or exports.size(path) != row["size_bytes"]:
            problems.append(
                f"{exports.url(path)}: linked from {entry['registered_as']} (audit row {row['id']}), but missing "
                f"or not of its registered size {row['size_bytes']}"
            )
    return problems


def _manifest_problems(exports, folder: str, row: dict) -> list[str]:
    path = posixpath.join(folder, MANIFEST_NAME)
    if not exports.exists(path):
        return [f"{exports.url(path)} (audit row {row['id']}) is missing"]
    with exports.open(path) as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if digest != row["checksum_sha256"]:
        return [f"{exports.url(path)}: sha256 {digest}, registered {row['checksum_sha256']} (audit row {row['id']})"]
    return []


@asset_check(
    asset="training_corpus",
    name="training_corpus_is_leak_free",
    description="The latest corpus version's files hold their registered bytes, and no pair is on both sides.",
)
def training_corpus_is_leak_free(
    context: AssetCheckExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> AssetCheckResult:
    """The latest version's manifest holds its registered bytes; every shard it wrote loads with its
    format's schema and holds the registered bytes, lines and evidence ids, and every shard it linked
    its registered size; no evidence id is in train and validation, or twice in one shard; no input and
    output appear twice among the shards it wrote."""
    with failing_as(context, "reading the latest corpus version"):
        database = aiops_db.database()
        version = latest_version(database)
        rows = version_rows(database, version) if version else None
    if rows is None:
        return AssetCheckResult(passed=True, metadata={"note": "no corpus version yet"})
    exports, digests = export_storage.exports(), []
    metadata = rows.manifest["metadata"]
    folder = exports.path_of(metadata["folder"])
    with failing_as(context, f"reading the files of corpus {version}"):
        problems = _manifest_problems(exports, folder, rows.manifest)
        problems += _shard_problems(exports, folder, rows, digests)
    ids_by_side: dict[str, set] = {"train": set(), "validation": set()}
    primary = metadata["primary_format"]
    for row in rows.shards.values():
        if row["metadata"]["format"] == primary:
            ids = list(row["source_ids"])
            if len(set(ids)) != len(ids):
                problems.append(f"{row['file_path']}: an evidence id appears twice")
            ids_by_side[row["metadata"]["split"]].update(ids)
    both = ids_by_side["train"] & ids_by_side["validation"]
    if both:
        problems.append(f"{len(both)} evidence id(s) in both train and validation, such as {sorted(both)[:3]}")
    repeated = 0
    if digests:
        joined = b"".join(digests)
        repeated = len(joined) // DIGEST_SIZE - distinct_count(joined)
        if repeated:
            problems.append(f"{repeated} pair(s) repeat an input and output already in the version")
    written = sum(_written_here(exports, folder, entry) for entry in metadata["shards"])
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "version": version,
            "shards": len(metadata["shards"]),
            "shards_read_back": written,
            "train": len(ids_by_side["train"]),
            "validation": len(ids_by_side["validation"]),
            "in_both_sides": len(both),
            "exact_repeats": repeated,
            "problems": MetadataValue.md(bullets(problems) if problems else "none"),
        },
    )
