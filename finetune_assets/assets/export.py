"""Export: the week's JSONL file and trainer files, then their audit rows in ``finetune_exports``."""

import posixpath
from dataclasses import asdict
from datetime import datetime, timezone

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from ..dataset_card import ExportSummary
from ..export_writing import ExportPlan, trainer_folder, write_export
from ..failures import fail_without_retry_unless_transient
from ..lineage import COLUMN_LINEAGE, COLUMN_SCHEMA, JSONL_COLUMN_LINEAGE, JSONL_COLUMNS, table_schema
from ..manifest import audit_rows_of, file_name, read_manifest, source_ids_path, write_manifest, written_files
from ..partitions import week_window, weekly_partitions
from ..previews import preview_markdown
from ..registry import EXPORT_TYPE, record_export
from ..resources import AiopsDatabase, DatasetPolicy, ExportStorage
from ..schema import finetune_exports
from ..staging import read_schema, staged_path
from .extract import DATABASE_RETRY
from .sources import OWNERS
from .sources import finetune_exports as finetune_exports_table
from .transform import read_pair_stats, training_pairs

EXPORT_GROUP = "export"


def export_file_name(week: str, run_id: str) -> str:
    # A name of its own per materialization: an earlier week's export is never replaced.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"finetune-{week}-{stamp}-{run_id[:8]}.jsonl"


def _export_week(
    context: AssetExecutionContext, export_storage: ExportStorage, policy: DatasetPolicy, week: str
) -> dict:
    start, end = week_window(week)
    staging, exports = export_storage.staging(), export_storage.exports()
    pairs_path = staged_path(staging, "training_pairs", week)
    stats = read_pair_stats(read_schema(staging, pairs_path))
    manifest = {
        "partition_key": week,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "run_id": context.run.run_id,
        "stats": stats,
        "split_key": policy.split_key,
        "validation_fraction": policy.validation_fraction,
        "formats": policy.formats,
        "snapshot": None,
        "trainer_files": [],
        "source_ids_path": source_ids_path(staging, week),
    }
    preview = []
    if stats["exported"]:
        snapshot_path = exports.path(week, export_file_name(week, context.run.run_id))

        def describe(snapshot, files):
            return ExportSummary(
                week, manifest["window_start"], manifest["window_end"], posixpath.basename(snapshot.path),
                snapshot.records, snapshot.sha256, stats, policy.split_key, policy.validation_fraction,
                policy.formats, files,
            )

        plan = ExportPlan(policy.formats, policy.split_key, policy.validation_fraction)
        with fail_without_retry_unless_transient(f"writing the export of week {week} to {exports.url(snapshot_path)}"):
            result = write_export(staging, pairs_path, manifest["source_ids_path"], exports, snapshot_path, plan, describe)
        manifest.update(snapshot=asdict(result.snapshot), trainer_files=[asdict(file) for file in result.trainer_files])
        preview = result.preview
        context.log.info(
            f"week {week}: wrote {result.snapshot.records} pairs ({result.snapshot.size_bytes} bytes) to "
            f"{result.snapshot.url}, and {len(result.trainer_files)} trainer file(s) to "
            f"{exports.url(trainer_folder(snapshot_path))}"
        )
    else:
        context.log.info(f"week {week} has no training pairs: no file written")
    with fail_without_retry_unless_transient(f"recording the export of week {week}"):
        write_manifest(staging, week, manifest)

    snapshot = manifest["snapshot"]
    metadata = {
        "dagster/row_count": snapshot["records"] if snapshot else 0,
        "size_bytes": snapshot["size_bytes"] if snapshot else 0,
        "window_start": manifest["window_start"],
        "window_end": manifest["window_end"],
        "preview": MetadataValue.md(preview_markdown(preview)),
    }
    if snapshot:
        metadata["path"] = MetadataValue.path(snapshot["url"])
        metadata["sha256"] = snapshot["sha256"]
        metadata["trainer_files"] = MetadataValue.md(_trainer_files_table(manifest["trainer_files"]))
    else:
        metadata["note"] = "no training pairs this week: no file written"
    return metadata


def _trainer_files_table(files: list[dict]) -> str:
    rows = [f"| {file_name(file)} | {file['records']} | {file['sha256'][:12]}… |" for file in files]
    return "\n".join(["| file | lines | sha256 |", "|---|---|---|", *rows])


def combine_weeks(per_week: dict[str, dict]) -> dict:
    """One week's metadata as it is; several weeks (a range run) keyed by week, with the total rows."""
    if len(per_week) == 1:
        return next(iter(per_week.values()))
    combined = {"dagster/row_count": sum(metadata["dagster/row_count"] for metadata in per_week.values())}
    for week, metadata in per_week.items():
        combined.update({f"{week} {key}": value for key, value in metadata.items() if key != "dagster/row_count"})
        combined[f"{week} rows"] = metadata["dagster/row_count"]
    return combined


@asset(
    partitions_def=weekly_partitions,
    group_name=EXPORT_GROUP,
    kinds={"jsonl", "file"},
    owners=OWNERS,
    deps=[training_pairs],
    metadata={COLUMN_SCHEMA: JSONL_COLUMNS},
)
def jsonl_export(
    context: AssetExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """The week's training pairs as UTF-8 JSONL (instruction, input, output, metadata) in
    `FINETUNE_EXPORT_PATH/<week>/` (a folder or an object store), and next to it a folder of the same
    name with each trainer format split into train and validation, a dataset card and LLaMA-Factory's
    dataset_info.json. Each
    materialization writes new files, which appear only when complete. A week without pairs writes
    nothing. A run over several weeks still writes one export per week."""
    policy = dataset_policy.validated()
    per_week = {week: _export_week(context, export_storage, policy, week) for week in context.partition_keys}
    return MaterializeResult(metadata={**combine_weeks(per_week), COLUMN_LINEAGE: JSONL_COLUMN_LINEAGE})


def _register_week(context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, week: str):
    staging, exports = export_storage.staging(), export_storage.exports()
    with fail_without_retry_unless_transient(f"reading the export manifest of week {week}"):
        manifest = read_manifest(staging, week)
    if not manifest["snapshot"]:
        return {"dagster/row_count": 0, "note": "no training pairs this week: no audit row written"}
    for file in written_files(manifest):
        if not exports.exists(file["path"]) or exports.size(file["path"]) != file["size_bytes"]:
            raise Failure(f"export file {file['url']} is missing or changed since it was written", allow_retries=False)
    registered = []
    for row in audit_rows_of(manifest, staging, context.run.run_id):
        with fail_without_retry_unless_transient(f"registering {row.file_path}"):
            registered.append((row, *record_export(aiops_db, row)))
    snapshot, row_id, inserted = registered[0]
    context.log.info(
        f"week {week}: registered {len(registered)} audit row(s) in finetune_exports: "
        + ", ".join(f"{row.export_type} (id {row_id})" for row, row_id, _ in registered)
    )
    return {
        "dagster/row_count": snapshot.record_count,
        "audit_row_count": len(registered),
        "audit_row_id": row_id,
        "inserted": inserted,
        "export_type": EXPORT_TYPE,
        "path": MetadataValue.path(snapshot.file_path),
        "sha256": snapshot.checksum_sha256,
        "audit_rows": MetadataValue.md(
            "\n".join(
                ["| id | export_type | lines | inserted |", "|---|---|---|---|"]
                + [f"| {row_id} | {row.export_type} | {row.record_count} | {inserted} |" for row, row_id, inserted in registered]
            )
        ),
    }


@asset(
    partitions_def=weekly_partitions,
    group_name=EXPORT_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
    deps=[jsonl_export, finetune_exports_table],
    retry_policy=DATABASE_RETRY,
    metadata={COLUMN_SCHEMA: table_schema(finetune_exports)},
)
def export_registry(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> MaterializeResult:
    """The audit row for the week's export in `finetune_exports`: path, record count, size, sha256,
    the exported evidence ids in file order, the week and the counts. One row per export file; a
    retried step finds its row and does not insert a second one."""
    per_week = {week: _register_week(context, aiops_db, export_storage, week) for week in context.partition_keys}
    return MaterializeResult(metadata=combine_weeks(per_week))
