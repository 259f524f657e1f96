"""The life of a run's own files: which step reads what a step staged, when a file is no longer needed,
and which leftovers of other runs of the week may go.

A run's staged files hold source text, so none outlives its use: after a step succeeds, every file it
read or wrote that no later step of this run's plan reads is removed. A failed run keeps what it had
not consumed, for re-execution from failure (which shares its root run id, and so its folder); the
next run of the week that writes its export removes the folders of runs that are over.
"""

import time

from dagster import AssetExecutionContext, DagsterRun, RunsFilter

from ..io.export_records import ExportRecords
from ..io.publish import remove_pending
from ..io.staging import EXPORT_POINTER, RunStaging
from ..io.store import Store

ROOT_RUN_TAG = "dagster/root_run_id"
# Step keys in the order a run executes them.
STEPS = (
    "successful_evidence",
    "coordinator_decisions",
    "repair_actions",
    "training_pairs",
    "jsonl_export",
    "jsonl_export_checks",
    "export_registry",
    "export_registry_audit_rows_match_files",
)
# What each step reads from its run's folder. The export pointer names the export the run wrote.
READS = {
    "training_pairs": ("successful_evidence", "coordinator_decisions", "repair_actions"),
    "jsonl_export": ("training_pairs",),
    "jsonl_export_checks": (EXPORT_POINTER,),
    "export_registry": (EXPORT_POINTER,),
    "export_registry_audit_rows_match_files": (EXPORT_POINTER,),
}
WRITES = {
    "successful_evidence": "successful_evidence",
    "coordinator_decisions": "coordinator_decisions",
    "repair_actions": "repair_actions",
    "training_pairs": "training_pairs",
    "jsonl_export": EXPORT_POINTER,
}
# A folder of a run this instance does not know (a CLI run on a temporary instance, say) is left alone
# while anything in it changed within this time.
UNKNOWN_RUN_QUIET_SECONDS = 3600
# A writer writes continuously; a temporary file unchanged this long belongs to a writer that died.
DEAD_PARTIAL_SECONDS = 600


def run_key(run: DagsterRun) -> str:
    """The folder a run stages into: its root run's id, which its re-executions share."""
    return run.root_run_id or run.run_id


def planned_steps(context: AssetExecutionContext) -> set[str]:
    keys = context.run.step_keys_to_execute
    return set(keys) if keys is not None else {node.name for node in context.job_def.nodes}


def release(context: AssetExecutionContext, staging: RunStaging, step: str) -> None:
    """After ``step`` succeeded: removes what it read or wrote that no later planned step reads."""
    later = [other for other in STEPS[STEPS.index(step) + 1 :] if other in planned_steps(context)]
    touched = [*READS.get(step, ()), *([WRITES[step]] if step in WRITES else [])]
    for item in touched:
        if any(item in READS.get(other, ()) for other in later):
            continue
        if item == EXPORT_POINTER:
            staging.remove_export_pointer()
        else:
            staging.remove(item)
    staging.remove_folder_if_empty()


def export_of_week(staging: RunStaging, records: ExportRecords) -> str | None:
    """The export this run wrote for the week; when it wrote none (the checks or the registry run alone,
    or in a later run), the newest one recorded."""
    return staging.export_pointer() or records.latest(staging.week)


def sweep_week(
    context: AssetExecutionContext,
    staging: RunStaging,
    exports: Store,
    records: ExportRecords,
    pending: Store,
    current: str,
) -> list[str]:
    """Removes the folders of the week's other runs that are over, the unpublished exports older than
    ``current`` (the export this run just wrote) whose runs are over, and temporary files of dead writers."""
    swept = []
    for other in staging.other_runs():
        folder = RunStaging.of(staging.store, staging.week, other).folder
        if _is_over(context, other, staging.store, folder):
            staging.store.remove_tree(folder)
            swept.append(staging.store.url(folder))
    week = staging.week
    for export in records.exports(week):
        if export >= current or not records.has_manifest(week, export):
            continue
        manifest = records.read_manifest(week, export)
        if manifest.snapshot is None or not pending.exists(manifest.snapshot.path):
            continue  # published, or nothing written
        if _is_over(context, _root(context, manifest.run_id), pending, manifest.snapshot.path):
            remove_pending(pending, manifest)
            swept.append(manifest.snapshot.url)
    swept += exports.sweep_partials(exports.path(week), DEAD_PARTIAL_SECONDS)
    swept += pending.sweep_partials(pending.path(week), DEAD_PARTIAL_SECONDS)
    swept += records.store.sweep_partials(records.store.path("exports", week), DEAD_PARTIAL_SECONDS)
    return swept


def _root(context: AssetExecutionContext, run_id: str) -> str:
    run = context.instance.get_run_by_id(run_id)
    return run_key(run) if run is not None else run_id


def _is_over(context: AssetExecutionContext, root: str, store: Store, folder: str) -> bool:
    known = context.instance.get_run_by_id(root)
    if known is None:
        return time.time() - store.modified(folder) > UNKNOWN_RUN_QUIET_SECONDS
    family = [known, *context.instance.get_runs(filters=RunsFilter(tags={ROOT_RUN_TAG: root}))]
    return all(run.is_finished for run in family)
