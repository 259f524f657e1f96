"""The check on a week's audit rows, read back from ``finetune_exports`` and held against the files."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import compress

import pyarrow.compute as pc
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    MetadataValue,
    asset_check,
)

from ...core.export_report import ALPACA_SCHEMA
from ...core.records import ExportManifest, WrittenFile
from ...core.splits import split_column, validation_mask
from ...dagster_defs.failures import failing_as
from ...dagster_defs.materializations import export_manifest
from ...dagster_defs.partitions import WEEKS, partitioned_checks
from ...dagster_defs.resources import AiopsDatabase, ExportStorage
from ...db.connection import Database
from ...db.registry import AuditRow, IdsDigest, audit_rows_of, registered_row
from ...io.atomic_jsonl import file_digest_and_lines
from ...io.export_reader import read_json_lines
from ...io.publish import published_manifest
from ...io.store import Store
from .export_files import bullets


def _file_ids(exports: Store, path: str, group_column: str, validation_fraction: float) -> dict:
    """Digests of the evidence ids in file order: all of them, and each side of the split as
    recomputed from each line's group."""
    digests = {None: IdsDigest(), "train": IdsDigest(), "validation": IdsDigest()}
    for batch in read_json_lines(exports, path, ALPACA_SCHEMA):
        metadata = batch.column("metadata")
        ids = pc.struct_field(metadata, "evidence_id").to_pylist()
        validation = validation_mask(pc.struct_field(metadata, group_column), validation_fraction)
        digests[None].update(ids)
        digests["train"].update(list(compress(ids, ~validation)))
        digests["validation"].update(list(compress(ids, validation)))
    return {side: digest.value for side, digest in digests.items()}


def _row_mismatches(
    row: dict | None, expected: AuditRow, file: WrittenFile, stored: dict, ids: tuple[int, str]
) -> list[str]:
    if row is None:
        return [f"{file.name}: no audit row"]
    stored = {"export_type": expected.export_type, **stored}
    problems = [
        f"{file.name}: {key} is {row[key]!r}, the file says {value!r}"
        for key, value in stored.items()
        if row[key] != value
    ]
    if (row["id_count"], row["ids_sha256"]) != ids:
        problems.append(f"{file.name}: source_ids ({row['id_count']}) differ from the file's {ids[0]} evidence ids")
    return problems


def _as_stored(exports: Store, file: WrittenFile) -> dict:
    sha256, lines = file_digest_and_lines(exports, file.path)
    return {"record_count": lines, "size_bytes": exports.size(file.path), "checksum_sha256": sha256}


def audit_problems(
    database: Database, staging: Store, exports: Store, manifest: ExportManifest
) -> tuple[list[str], int]:
    expected_rows, files = audit_rows_of(manifest, staging, manifest.run_id, source=""), manifest.files
    # Hashing the files (which releases the GIL) runs beside parsing the snapshot's ids.
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = pool.map(partial(_as_stored, exports), files)
        ids_of = _file_ids(
            exports, manifest.snapshot.path, split_column(manifest.split_key), manifest.validation_fraction
        )
        stored = list(stored)
    problems = []
    for expected, file, as_stored in zip(expected_rows, files, stored, strict=True):
        row = registered_row(database, expected.file_path)
        problems += _row_mismatches(row, expected, file, as_stored, ids_of[expected.split])
    return problems, len(expected_rows)


with partitioned_checks():

    @asset_check(
        asset="export_registry",
        partitions_def=WEEKS,
        description="Each audit row agrees with its file as stored: line count, bytes, sha256 and the evidence "
        "ids in file order (a split file's ids recomputed from the snapshot's groups).",
    )
    def audit_rows_match_files(
        context: AssetCheckExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
    ) -> AssetCheckResult:
        problems, rows = [], 0
        exports, records, pending = export_storage.exports(), export_storage.records(), export_storage.pending()
        week = context.partition_key
        with failing_as(context, f"reading back the audit rows of week {week}"):
            manifest = export_manifest(context, "export_registry")
            if manifest is not None and manifest.snapshot is not None:
                published = published_manifest(manifest, pending, exports)
                week_problems, rows = audit_problems(aiops_db.database(), records.store, exports, published)
                problems = [f"{week}: {problem}" for problem in week_problems]
        context.log.info(
            f"week {week}: {rows} audit row(s) "
            + ("match their files" if not problems else f"do NOT match their files: {len(problems)} problem(s)")
        )
        return AssetCheckResult(
            passed=not problems, metadata={"rows_checked": rows, "problems": MetadataValue.md(bullets(problems))}
        )
