"""Where the manifest of a week's export is kept: in the staging store, for the checks and the registry,
which may run in another process or on another host."""

from ..core.records import ExportManifest
from .staging import staged_path
from .store import Store


def manifest_path(staging: Store, week: str) -> str:
    return staging.path("jsonl_export", f"{week}.json")


def source_ids_path(staging: Store, week: str) -> str:
    return staged_path(staging, "jsonl_export", f"{week}.ids")


def write_manifest(staging: Store, manifest: ExportManifest) -> None:
    staging.write_text(manifest_path(staging, manifest.partition_key), manifest.to_json(), replace=True)


def read_manifest(staging: Store, week: str) -> ExportManifest:
    path = manifest_path(staging, week)
    if not staging.exists(path):
        raise FileNotFoundError(
            f"no export manifest at {staging.url(path)}: materialize jsonl_export for week {week} first"
        )
    return ExportManifest.from_json(staging.read_text(path))
