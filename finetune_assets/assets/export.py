"""Export: the week's JSONL file, then its audit row in ``finetune_exports``."""

import json
import os
from dataclasses import asdict
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
from ..resources import AiopsDatabase, DatasetPolicy, ExportStorage
from ..staging import BatchFileWriter, read_batches, read_schema, staged_path
from ..dataset_card import ExportSummary, dataset_card, dataset_info_json
from ..splits import split_column, validation_mask
from ..trainer_files import TrainerFileSet
from ..writer import format_lines
from .extract import DATABASE_RETRY
from .sources import OWNERS
from .sources import finetune_exports as finetune_exports_table
from .transform import read_pair_stats, training_pairs

EXPORT_GROUP = "export"
# Writing a file and a row is quick next to starting a run: a backfill does up to four weeks per
# run here, while the extract steps keep one run per week (a failing week stays isolated there).
WEEKS_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=4)
SOURCE_IDS_SCHEMA = pa.schema([("evidence_id", pa.string()), ("validation", pa.bool_())])
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


def trainer_folder(snapshot_path: Path) -> Path:
    """The snapshot's trainer files, card and dataset_info.json sit in a folder named after it."""
    return snapshot_path.with_suffix("")


def _write_files(pairs_path: Path, snapshot_path: Path, ids_path: Path, policy: DatasetPolicy, describe):
    """One pass over the pairs: the snapshot, every trainer file and the ids, each published whole."""
    column = split_column(policy.split_key)
    trainer_files = TrainerFileSet(trainer_folder(snapshot_path), policy.formats)
    preview = []
    with AtomicJsonlWriter(snapshot_path) as snapshot, trainer_files, BatchFileWriter(ids_path, SOURCE_IDS_SCHEMA) as ids:
        for batch in read_batches(pairs_path):
            validation = validation_mask(batch.column(column), policy.validation_fraction)
            lines = format_lines(batch, "alpaca")
            snapshot.write_lines("".join(lines).encode("utf-8"), batch.num_rows)
            trainer_files.write(batch, lines, validation)
            ids.write(pa.record_batch([batch.column("evidence_id"), pa.array(validation)], schema=SOURCE_IDS_SCHEMA))
            if len(preview) < PREVIEW_ROWS:
                preview.extend(batch.slice(0, PREVIEW_ROWS - len(preview)).select(PREVIEW_COLUMNS).to_pylist())
        files = trainer_files.files()
        summary = describe(snapshot.result, files)
        trainer_files.add_text("README.md", dataset_card(summary))
        trainer_files.add_text("dataset_info.json", dataset_info_json(summary))
    return snapshot.result, files, preview


def _export_week(
    context: AssetExecutionContext, export_storage: ExportStorage, policy: DatasetPolicy, week: str
) -> dict:
    start, end = week_window(week)
    pairs_path = staged_path(export_storage.staging_root(), "training_pairs", week)
    stats = read_pair_stats(read_schema(pairs_path))
    manifest = {
        "partition_key": week,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "run_id": context.run.run_id,
        "stats": stats,
        "split_key": policy.split_key,
        "validation_fraction": policy.validation_fraction,
        "formats": policy.formats,
        "file_path": None,
        "record_count": 0,
        "size_bytes": 0,
        "sha256": None,
        "trainer_files": [],
        "source_ids_path": str(source_ids_path(export_storage, week)),
    }
    preview = []
    if stats["exported"]:
        snapshot_path = export_storage.export_root() / week / export_file_name(week, context.run.run_id)

        def describe(snapshot, files):
            return ExportSummary(
                week, manifest["window_start"], manifest["window_end"], snapshot_path.name, snapshot.records,
                snapshot.sha256, stats, policy.split_key, policy.validation_fraction, policy.formats, files,
            )

        with fail_without_retry_unless_transient(f"writing the export of week {week} to {snapshot_path}"):
            written, files, preview = _write_files(
                pairs_path, snapshot_path, Path(manifest["source_ids_path"]), policy, describe
            )
        manifest.update(
            file_path=str(written.path),
            record_count=written.records,
            size_bytes=written.size_bytes,
            sha256=written.sha256,
            trainer_files=[{**asdict(file), "path": str(file.path)} for file in files],
        )
        context.log.info(
            f"week {week}: wrote {written.records} pairs ({written.size_bytes} bytes) to {written.path}, "
            f"and {len(files)} trainer file(s) to {trainer_folder(written.path)}"
        )
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
        metadata["trainer_files"] = MetadataValue.md(_trainer_files_table(manifest["trainer_files"]))
    else:
        metadata["note"] = "no training pairs this week: no file written"
    return metadata


def _trainer_files_table(files: list[dict]) -> str:
    rows = [f"| {Path(file['path']).name} | {file['records']} | {file['sha256'][:12]}… |" for file in files]
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
    backfill_policy=WEEKS_PER_RUN,
)
def jsonl_export(
    context: AssetExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """The week's training pairs as UTF-8 JSONL (instruction, input, output, metadata) in
    `FINETUNE_EXPORT_PATH/<week>/`, and next to it a folder of the same name with each trainer format
    split into train and validation, a dataset card and LLaMA-Factory's dataset_info.json. Each
    materialization writes new files, which appear only when complete. A week without pairs writes
    nothing. A backfill writes up to four weeks per run, still one export per week."""
    policy = dataset_policy.validated()
    per_week = {week: _export_week(context, export_storage, policy, week) for week in context.partition_keys}
    return MaterializeResult(metadata={**combine_weeks(per_week), COLUMN_LINEAGE: JSONL_COLUMN_LINEAGE})


def _present(path: Path, size_bytes: int) -> None:
    if not path.exists() or path.stat().st_size != size_bytes:
        raise Failure(f"export file {path} is missing or changed since it was written", allow_retries=False)


def audit_rows_of(manifest: dict, run_id: str) -> list[AuditRow]:
    """The snapshot's row, then one row per trainer file, all from the manifest jsonl_export wrote."""
    stats = manifest["stats"]
    common = {
        "partition_key": manifest["partition_key"],
        "window_start": manifest["window_start"],
        "window_end": manifest["window_end"],
        "run_id": run_id,
        "export_run_id": manifest["run_id"],
        "selected": stats["selected"],
        "skipped": stats["skipped_no_output"],
        "duplicates": stats["duplicates"],
        "exported": stats["exported"],
        "redactions": stats.get("redactions", {}),
    }
    ids_path = Path(manifest["source_ids_path"])
    rows = [
        AuditRow(ids_path, manifest["file_path"], manifest["record_count"], manifest["size_bytes"], manifest["sha256"], common)
    ]
    for file in manifest["trainer_files"]:
        split_metadata = {
            "format": file["trainer_format"],
            "split": file["split"],
            "split_key": manifest["split_key"],
            "validation_fraction": manifest["validation_fraction"],
            "snapshot_file_path": manifest["file_path"],
        }
        rows.append(
            AuditRow(
                ids_path, file["path"], file["records"], file["size_bytes"], file["sha256"],
                {**common, **split_metadata}, export_type=f"{file['trainer_format']}_{file['split']}", split=file["split"],
            )
        )
    return rows


def read_manifest(export_storage: ExportStorage, week: str) -> dict:
    path = manifest_path(export_storage, week)
    if not path.exists():
        raise Failure(f"no export manifest at {path}: materialize jsonl_export for week {week} first", allow_retries=False)
    return json.loads(path.read_text(encoding="utf-8"))


def _register_week(context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, week: str):
    manifest = read_manifest(export_storage, week)
    if not manifest["file_path"]:
        return {"dagster/row_count": 0, "note": "no training pairs this week: no audit row written"}
    rows = audit_rows_of(manifest, context.run.run_id)
    for row in rows:
        _present(Path(row.file_path), row.size_bytes)
    registered = []
    for row in rows:
        with fail_without_retry_unless_transient(f"registering {row.file_path}"):
            registered.append((row, *record_export(aiops_db, row)))
    snapshot, row_id, inserted = registered[0]
    return {
        "dagster/row_count": snapshot.record_count,
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
