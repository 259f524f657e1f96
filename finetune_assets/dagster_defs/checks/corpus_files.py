"""The check on the latest corpus version, read back as trainers read it and held against its audit rows."""

from collections import Counter

import numpy as np
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from ...core.digests import DIGEST_SIZE, pair_digests
from ...core.line_formats import LINE_SCHEMAS
from ...db.corpus_registry import latest_version, version_rows
from ...io.export_reader import Reading, UnreadableExport, read_json_lines
from ..failures import DATABASE_RETRY, fail_without_retry_unless_transient
from ..resources import AiopsDatabase, ExportStorage
from .export_files import bullets


def _file_problems(exports, row: dict, digests: list) -> list[str]:
    name, path = row["file_path"], exports.path_of(row["file_path"])
    if path is None or not exports.exists(path):
        return [f"{name} (audit row {row['id']}) is missing"]
    reading, lines = Reading(), 0
    trainer_format = row["metadata"]["format"]
    try:
        for batch in read_json_lines(exports, path, LINE_SCHEMAS[trainer_format], reading):
            lines += batch.num_rows
            if trainer_format == "alpaca":
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


def training_corpus_is_leak_free(
    context: AssetCheckExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> AssetCheckResult:
    """Every file of the latest version loads with its format's schema and holds the registered bytes and
    line count; no evidence id is in train and validation, or twice in one file; no input and output
    appear twice in the version (exact duplicates, across both sides)."""
    with fail_without_retry_unless_transient("reading the latest corpus version"):
        database = aiops_db.database()
        version = latest_version(database)
        rows = version_rows(database, version) if version else []
    if not rows:
        return AssetCheckResult(passed=True, metadata={"note": "no corpus version yet"})
    exports, problems, digests = export_storage.exports(), [], []
    with fail_without_retry_unless_transient(f"reading the files of corpus {version}"):
        for row in rows:
            problems += _file_problems(exports, row, digests)
    ids_by_side: dict[str, set] = {}
    primary = rows[0]["metadata"]["primary_format"]
    for row in rows:
        if row["metadata"]["format"] == primary:
            ids = list(row["source_ids"])
            if len(set(ids)) != len(ids):
                problems.append(f"{row['file_path']}: an evidence id appears twice")
            ids_by_side[row["metadata"]["split"]] = set(ids)
    both = ids_by_side.get("train", set()) & ids_by_side.get("validation", set())
    if both:
        problems.append(f"{len(both)} evidence id(s) in both train and validation, such as {sorted(both)[:3]}")
    repeated = 0
    if digests:
        keys = np.frombuffer(b"".join(digests), dtype=f"S{DIGEST_SIZE}")
        repeated = len(keys) - len(np.unique(keys))
        if repeated:
            problems.append(f"{repeated} pair(s) repeat an input and output already in the version")
    sides = Counter(
        {row["metadata"]["split"]: row["record_count"] for row in rows if row["metadata"]["format"] == primary}
    )
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "version": version,
            "files": len(rows),
            "train": sides["train"],
            "validation": sides["validation"],
            "in_both_sides": len(both),
            "exact_repeats": repeated,
            "problems": MetadataValue.md(bullets(problems) if problems else "none"),
        },
    )


def corpus_checks():
    return asset_check(
        asset="training_corpus",
        name="training_corpus_is_leak_free",
        retry_policy=DATABASE_RETRY,
        description="The latest corpus version's files hold their registered bytes, and no pair is on both sides.",
    )(training_corpus_is_leak_free)
