"""Export: the week's JSONL file, then its audit row in ``finetune_exports``."""

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
from dagster import AssetExecutionContext, BackfillPolicy, Failure, MaterializeResult, MetadataValue, asset

from ..failures import fail_without_retry_unless_transient
from ..jsonl import AtomicJsonlWriter
from ..lineage import COLUMN_LINEAGE, COLUMN_SCHEMA, JSONL_COLUMN_LINEAGE, JSONL_COLUMNS, table_schema
from ..schema import finetune_exports
from ..partitions import week_window, weekly_partitions
from ..previews import PREVIEW_ROWS, preview_markdown
from ..registry import EXPORT_TYPE, AuditRow, record_export
from ..resources import AiopsDatabase, ExportStorage
from ..staging import BatchFileWriter, read_batches, read_schema, staged_path
from ..writer import pair_lines
from .extract import DATABASE_RETRY
from .sources import OWNERS
from .sources import finetune_exports as finetune_exports_table
from .transform import read_pair_stats, training_pairs

EXPORT_GROUP = "export"
# Writing a file and a row is quick next to starting a run: a backfill does up to four weeks per
# run here, while the extract steps keep one run per week (a failing week stays isolated there).
WEEKS_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=4)
SOURCE_IDS_SCHEMA = pa.schema([("evidence_id", pa.string())])
PREVIEW_COLUMNS = ["evidence_id", "input", "output"]


def manifest_path(export_storage: ExportStorage, week: str) -> Path:
    return export_storage.staging_root() / "jsonl_export" / f"{week}.json"


def source_ids_path(export_storage: ExportStorage, week: str) -> Path:
    return staged_path(export_storage.staging_root(), "jsonl_export", f"{week}.ids")


def export_file_name(week: str, run_id: str) -> str:
    # A name of its own per materialization: an earlier week's export is never replaced.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"finetune-{week}-{stamp}-{run_id[:8]}.jsonl"


def _write_manifest(path: Path, manifest: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = path.with_name(f".{path.name}.partial")
    temp_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(temp_path, path)


def _export_week(context: AssetExecutionContext, export_storage: ExportStorage, week: str) -> dict:
    start, end = week_window(week)
    pairs_path = staged_path(export_storage.staging_root(), "training_pairs", week)
    stats = read_pair_stats(read_schema(pairs_path))
    manifest = {
        "partition_key": week,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "run_id": context.run.run_id,
        "stats": stats,
        "file_path": None,
        "record_count": 0,
        "size_bytes": 0,
        "sha256": None,
        "source_ids_path": str(source_ids_path(export_storage, week)),
    }
    preview = []
    if stats["exported"]:
        final_path = export_storage.export_root() / week / export_file_name(week, context.run.run_id)
        ids_file = BatchFileWriter(Path(manifest["source_ids_path"]), SOURCE_IDS_SCHEMA)
        with AtomicJsonlWriter(final_path) as writer, ids_file:
            for batch in read_batches(pairs_path):
                writer.write_lines(pair_lines(batch), batch.num_rows)
                ids_file.write(batch.select(["evidence_id"]))
                if len(preview) < PREVIEW_ROWS:
                    preview.extend(batch.slice(0, PREVIEW_ROWS - len(preview)).select(PREVIEW_COLUMNS).to_pylist())
        written = writer.result
        manifest.update(
            file_path=str(written.path),
            record_count=written.records,
            size_bytes=written.size_bytes,
            sha256=written.sha256,
        )
        context.log.info(f"week {week}: wrote {written.records} pairs ({written.size_bytes} bytes) to {written.path}")
    else:
        context.log.info(f"week {week} has no training pairs: no file written")
    _write_manifest(manifest_path(export_storage, week), manifest)

    metadata = {
        "dagster/row_count": manifest["record_count"],
        "size_bytes": manifest["size_bytes"],
        "window_start": manifest["window_start"],
        "window_end": manifest["window_end"],
        "preview": MetadataValue.md(preview_markdown(preview)),
    }
    if manifest["file_path"]:
        metadata["path"] = MetadataValue.path(manifest["file_path"])
        metadata["sha256"] = manifest["sha256"]
    else:
        metadata["note"] = "no training pairs this week: no file written"
    return metadata


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
    backfill_policy=WEEKS_PER_RUN,
)
def jsonl_export(context: AssetExecutionContext, export_storage: ExportStorage) -> MaterializeResult:
    """The week's training pairs as UTF-8 JSONL (instruction, input, output, metadata) in
    `FINETUNE_EXPORT_PATH/<week>/`. Each materialization writes a new file, which appears under its
    final name only when complete. A week without pairs writes no file. A backfill writes up to four
    weeks per run, still one file per week."""
    per_week = {week: _export_week(context, export_storage, week) for week in context.partition_keys}
    return MaterializeResult(metadata={**combine_weeks(per_week), COLUMN_LINEAGE: JSONL_COLUMN_LINEAGE})


def _register_week(context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, week: str):
    path = manifest_path(export_storage, week)
    if not path.exists():
        raise Failure(f"no export manifest at {path}: materialize jsonl_export for week {week} first", allow_retries=False)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not manifest["file_path"]:
        return {"dagster/row_count": 0, "note": "no training pairs this week: no audit row written"}
    export_file = Path(manifest["file_path"])
    if not export_file.exists() or export_file.stat().st_size != manifest["size_bytes"]:
        raise Failure(f"export file {export_file} is missing or changed since it was written", allow_retries=False)

    stats = manifest["stats"]
    row = AuditRow(
        source_ids_path=Path(manifest["source_ids_path"]),
        file_path=str(export_file),
        record_count=manifest["record_count"],
        size_bytes=manifest["size_bytes"],
        checksum_sha256=manifest["sha256"],
        metadata={
            "partition_key": manifest["partition_key"],
            "window_start": manifest["window_start"],
            "window_end": manifest["window_end"],
            "run_id": context.run.run_id,
            "export_run_id": manifest["run_id"],
            "selected": stats["selected"],
            "skipped": stats["skipped_no_output"],
            "duplicates": stats["duplicates"],
            "exported": stats["exported"],
        },
    )
    with fail_without_retry_unless_transient(f"registering {export_file}"):
        row_id, inserted = record_export(aiops_db, row)
    return {
        "dagster/row_count": row.record_count,
        "audit_row_id": row_id,
        "inserted": inserted,
        "export_type": EXPORT_TYPE,
        "path": MetadataValue.path(row.file_path),
        "sha256": row.checksum_sha256,
    }


@asset(
    partitions_def=weekly_partitions,
    group_name=EXPORT_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
    deps=[jsonl_export, finetune_exports_table],
    retry_policy=DATABASE_RETRY,
    metadata={COLUMN_SCHEMA: table_schema(finetune_exports)},
    backfill_policy=WEEKS_PER_RUN,
)
def export_registry(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> MaterializeResult:
    """The audit row for the week's export in `finetune_exports`: path, record count, size, sha256,
    the exported evidence ids in file order, the week and the counts. One row per export file; a
    retried step finds its row and does not insert a second one."""
    per_week = {week: _register_week(context, aiops_db, export_storage, week) for week in context.partition_keys}
    return MaterializeResult(metadata=combine_weeks(per_week))
