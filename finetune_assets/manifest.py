"""What jsonl_export wrote for a week, kept in the staging store for export_registry and the checks,
which may run in another process or on another host. No Dagster here."""

import json
import posixpath

from .registry import EXPORT_TYPE, AuditRow
from .staging import staged_path
from .storage import Store
from .trainer_files import TrainerFile


def manifest_path(staging: Store, week: str) -> str:
    return staging.path("jsonl_export", f"{week}.json")


def source_ids_path(staging: Store, week: str) -> str:
    return staged_path(staging, "jsonl_export", f"{week}.ids")


def write_manifest(staging: Store, week: str, manifest: dict) -> None:
    staging.write_text(manifest_path(staging, week), json.dumps(manifest, ensure_ascii=False), replace=True)


def read_manifest(staging: Store, week: str) -> dict:
    path = manifest_path(staging, week)
    if not staging.exists(path):
        raise FileNotFoundError(
            f"no export manifest at {staging.url(path)}: materialize jsonl_export for week {week} first"
        )
    return json.loads(staging.read_text(path))


def audit_rows_of(manifest: dict, staging: Store, run_id: str) -> list[AuditRow]:
    """The snapshot's row, then one row per trainer file."""
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
    ids_path = manifest["source_ids_path"]
    snapshot = manifest["snapshot"]
    rows = [
        AuditRow(staging, ids_path, snapshot["url"], snapshot["records"], snapshot["size_bytes"], snapshot["sha256"],
                 common, export_type=EXPORT_TYPE)
    ]
    for file in manifest["trainer_files"]:
        split_metadata = {
            "format": file["trainer_format"],
            "split": file["split"],
            "split_key": manifest["split_key"],
            "validation_fraction": manifest["validation_fraction"],
            "snapshot_file_path": snapshot["url"],
        }
        rows.append(
            AuditRow(
                staging, ids_path, file["url"], file["records"], file["size_bytes"], file["sha256"],
                {**common, **split_metadata}, export_type=TrainerFile(**file).export_type, split=file["split"],
            )
        )
    return rows


def file_name(file: dict) -> str:
    """The last part of a written file's path or URL, as the card and the checks show it."""
    return posixpath.basename(file["path"])


def written_files(manifest: dict) -> list[dict]:
    """Every file of the export with its store path, url, records, size_bytes and sha256."""
    if manifest["snapshot"] is None:
        return []
    return [manifest["snapshot"], *manifest["trainer_files"]]
