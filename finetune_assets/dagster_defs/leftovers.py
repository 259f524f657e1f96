"""What goes from the owner-only staging store, and when: staged files hold source text, so none stays
longer than it may still be read.

- Superseded intermediate files: after a write of an (asset, week), its other files older than the
  retention whose run is over. Nothing is swept while another run of the week is going: it may
  be reading any of them.
- Unpublished exports: an export older than the one just written, whose run is over, and whose files
  are still pending (its checks failed, or it was never registered).
- Temporary files of writers that died.
"""

import time

from dagster import AssetExecutionContext, DagsterInstance, DagsterRunStatus, RunsFilter

from ..io.export_records import ExportRecords
from ..io.publish import remove_pending
from ..io.staging import ASSETS_FOLDER, staged_files
from ..io.store import Store
from .materializations import run_family_is_over

GOING = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
PARTITION_TAG = "dagster/partition"
# What a run this instance does not know (a CLI run on a temporary instance, say) wrote is left alone
# while it changed within this time.
UNKNOWN_RUN_QUIET_SECONDS = 3600
# A writer writes continuously; a temporary file unchanged this long belongs to a writer that died.
DEAD_PARTIAL_SECONDS = 600


def sweep_superseded(
    instance: DagsterInstance, store: Store, asset: str, week: str, current_run: str, retention_seconds: float
) -> list[str]:
    """Removes the (asset, week)'s staged files that the retention rule lets go; returns their URLs."""
    going = instance.get_runs(filters=RunsFilter(statuses=GOING, tags={PARTITION_TAG: week}))
    if any(run.run_id != current_run for run in going):
        return []
    swept = []
    for run_id, path in staged_files(store, asset, week).items():
        if run_id == current_run:
            continue  # the week's latest
        modified = store.modified(path)
        if time.time() - modified <= retention_seconds:
            continue
        if run_family_is_over(instance, run_id, modified, max(retention_seconds, UNKNOWN_RUN_QUIET_SECONDS)):
            store.remove(path)
            swept.append(store.url(path))
    return swept + store.sweep_partials(store.path(ASSETS_FOLDER, asset, week), DEAD_PARTIAL_SECONDS)


def sweep_unpublished(
    context: AssetExecutionContext, exports: Store, records: ExportRecords, pending: Store, current: str
) -> list[str]:
    """Removes the week's unpublished exports older than ``current`` (the export this run just wrote)
    whose runs are over, and temporary files of dead writers; returns what it removed."""
    week, swept = context.partition_key, []
    for export in records.exports(week):
        if export >= current or not records.has_manifest(week, export):
            continue
        manifest = records.read_manifest(week, export)
        if manifest.snapshot is None or not pending.exists(manifest.snapshot.path):
            continue  # published, or nothing written
        modified = pending.modified(manifest.snapshot.path)
        if run_family_is_over(context.instance, manifest.run_id, modified, UNKNOWN_RUN_QUIET_SECONDS):
            remove_pending(pending, manifest)
            swept.append(manifest.snapshot.url)
    swept += exports.sweep_partials(exports.path(week), DEAD_PARTIAL_SECONDS)
    swept += pending.sweep_partials(pending.path(week), DEAD_PARTIAL_SECONDS)
    swept += records.store.sweep_partials(records.store.path("exports", week), DEAD_PARTIAL_SECONDS)
    return swept
