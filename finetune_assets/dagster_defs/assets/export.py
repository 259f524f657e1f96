"""Export: the week's JSONL file and trainer files, then their audit rows in ``finetune_exports``."""

from dataclasses import replace
from datetime import datetime, timezone

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from ...core.dataset_card import ExportSummary
from ...core.records import ExportManifest, TrainerFile, WrittenFile
from ...core.weeks import week_window
from ...db.registry import audit_rows_of, record_export
from ...db.schema import finetune_exports
from ...io.export_writer import ExportPlan, trainer_folder, write_export
from ...io.manifest import read_manifest, source_ids_path, write_manifest
from ...io.staging import staged_path
from ..catalog import COLUMN_LINEAGE, COLUMN_SCHEMA, JSONL_COLUMN_LINEAGE, JSONL_COLUMNS, table_schema
from ..failures import fail_without_retry_unless_transient
from ..previews import preview_markdown
from ..resources import AiopsDatabase, DatasetPolicy, ExportStorage
from .extract import DATABASE_RETRY
from .sources import OWNERS
from .transform import read_pair_stats

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
    manifest = ExportManifest(
        partition_key=week,
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        run_id=context.run.run_id,
        stats=read_pair_stats(staging, pairs_path),
        split_key=policy.split_key,
        validation_fraction=policy.validation_fraction,
        formats=tuple(policy.formats),
        source_ids_path=source_ids_path(staging, week),
    )
    preview = []
    if manifest.stats.exported:
        snapshot_path = exports.path(week, export_file_name(week, context.run.run_id))

        def describe(snapshot: WrittenFile, files: list[TrainerFile]) -> ExportSummary:
            return ExportSummary(
                week,
                manifest.window_start,
                manifest.window_end,
                snapshot.name,
                snapshot.records,
                snapshot.sha256,
                manifest.stats.as_dict(),
                policy.split_key,
                policy.validation_fraction,
                policy.formats,
                files,
            )

        plan = ExportPlan(policy.formats, policy.split_key, policy.validation_fraction)
        with fail_without_retry_unless_transient(f"writing the export of week {week} to {exports.url(snapshot_path)}"):
            result = write_export(staging, pairs_path, manifest.source_ids_path, exports, snapshot_path, plan, describe)
        manifest = replace(manifest, snapshot=result.snapshot, trainer_files=tuple(result.trainer_files))
        preview = result.preview
        context.log.info(
            f"week {week}: wrote {result.snapshot.records} pairs ({result.snapshot.size_bytes} bytes) to "
            f"{result.snapshot.url}, and {len(result.trainer_files)} trainer file(s) to "
            f"{exports.url(trainer_folder(snapshot_path))}"
        )
    else:
        context.log.info(f"week {week} has no training pairs: no file written")
    with fail_without_retry_unless_transient(f"recording the export of week {week}"):
        write_manifest(staging, manifest)

    snapshot = manifest.snapshot
    metadata = {
        "dagster/row_count": snapshot.records if snapshot else 0,
        "size_bytes": snapshot.size_bytes if snapshot else 0,
        "window_start": manifest.window_start,
        "window_end": manifest.window_end,
        "preview": MetadataValue.md(preview_markdown(preview)),
    }
    if snapshot:
        metadata["path"] = MetadataValue.path(snapshot.url)
        metadata["sha256"] = snapshot.sha256
        metadata["trainer_files"] = MetadataValue.md(_trainer_files_table(manifest.trainer_files))
    else:
        metadata["note"] = "no training pairs this week: no file written"
    return metadata


def _trainer_files_table(files: tuple[TrainerFile, ...]) -> str:
    rows = [f"| {file.name} | {file.records} | {file.sha256[:12]}… |" for file in files]
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


def jsonl_export(
    context: AssetExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """The week's training pairs as UTF-8 JSONL (instruction, input, output, metadata) in
    `FINETUNE_EXPORT_PATH/<week>/` (a folder or an object store), and next to it a folder of the same
    name with each trainer format split into train and validation, a dataset card and LLaMA-Factory's
    dataset_info.json. Each materialization writes new files, which appear only when complete. A week
    without pairs writes nothing. A run over several weeks still writes one export per week."""
    policy = dataset_policy.validated()
    per_week = {week: _export_week(context, export_storage, policy, week) for week in context.partition_keys}
    return MaterializeResult(metadata={**combine_weeks(per_week), COLUMN_LINEAGE: JSONL_COLUMN_LINEAGE})


def _register_week(context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, week: str):
    staging, exports = export_storage.staging(), export_storage.exports()
    with fail_without_retry_unless_transient(f"reading the export manifest of week {week}"):
        manifest = read_manifest(staging, week)
    if manifest.snapshot is None:
        return {
            "dagster/row_count": 0,
            "audit_row_count": 0,
            "note": "no training pairs this week: no audit row written",
        }
    for file in manifest.files:
        if not exports.exists(file.path) or exports.size(file.path) != file.size_bytes:
            raise Failure(f"export file {file.url} is missing or changed since it was written", allow_retries=False)
    registered = []
    for row in audit_rows_of(manifest, staging, context.run.run_id):
        with fail_without_retry_unless_transient(f"registering {row.file_path}"):
            registered.append((row, *record_export(aiops_db.database(), row)))
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
        "export_type": snapshot.export_type,
        "path": MetadataValue.path(snapshot.file_path),
        "sha256": snapshot.checksum_sha256,
        "audit_rows": MetadataValue.md(
            "\n".join(
                ["| id | export_type | lines | inserted |", "|---|---|---|---|"]
                + [
                    f"| {row_id} | {row.export_type} | {row.record_count} | {inserted} |"
                    for row, row_id, inserted in registered
                ]
            )
        ),
    }


def export_registry(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> MaterializeResult:
    """The audit row for the week's export in `finetune_exports`: path, record count, size, sha256,
    the exported evidence ids in file order, the week and the counts. One row per export file; a
    retried step finds its row and does not insert a second one."""
    per_week = {week: _register_week(context, aiops_db, export_storage, week) for week in context.partition_keys}
    return MaterializeResult(metadata=combine_weeks(per_week))


def export_assets(weeks: PartitionsDefinition) -> list[AssetsDefinition]:
    common = {"partitions_def": weeks, "group_name": EXPORT_GROUP, "owners": OWNERS}
    return [
        asset(
            **common,
            kinds={"jsonl", "file"},
            deps=["training_pairs"],
            metadata={COLUMN_SCHEMA: JSONL_COLUMNS},
        )(jsonl_export),
        # finetune_exports is drawn upstream: export_registry reads it (is this file registered yet?)
        # before appending, and downstream it would fall inside `successful_evidence*`.
        asset(
            **common,
            kinds={"postgres", "table"},
            deps=["jsonl_export", "finetune_exports"],
            retry_policy=DATABASE_RETRY,
            metadata={COLUMN_SCHEMA: table_schema(finetune_exports)},
        )(export_registry),
    ]
