"""Which materialization of a week a step reads, as the Dagster instance records it: the one its own
run made (or the run it re-executes from failure), so that two runs of one week never read each other's
work; otherwise, when the asset is not part of the run, the latest one."""

import time

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DagsterRun,
    EventLogRecord,
    Failure,
    OpExecutionContext,
    RunsFilter,
)

from ..core.records import ExportManifest

ROOT_RUN_TAG = "dagster/root_run_id"
# The metadata entry of jsonl_export's and export_registry's materializations that holds the manifest.
MANIFEST = "manifest"
# How many of a week's materializations since this run began are looked through for its own.
SINCE_RUN_BEGAN = 1000


def run_lineage(instance: DagsterInstance, run: DagsterRun) -> list[DagsterRun]:
    """The run, then the run it re-executes, and so on back to the first."""
    lineage = [run]
    while lineage[-1].parent_run_id and (parent := instance.get_run_by_id(lineage[-1].parent_run_id)):
        lineage.append(parent)
    return lineage


def metadata_of(record: EventLogRecord) -> dict:
    return {key: value.value for key, value in record.asset_materialization.metadata.items()}


def week_materialization(instance: DagsterInstance, run: DagsterRun, asset: str, week: str) -> EventLogRecord | None:
    """The materialization of ``asset`` for ``week`` that ``run`` should read (see the module's doc)."""
    lineage = run_lineage(instance, run)
    oldest = instance.get_run_record_by_id(lineage[-1].run_id)
    began = oldest.create_timestamp.timestamp() if oldest is not None else None
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[week], after_timestamp=began),
        limit=SINCE_RUN_BEGAN,
    ).records
    for member in lineage:
        for record in records:
            if record.run_id == member.run_id:
                return record
    return latest_materialization(instance, asset, week)


def latest_materialization(instance: DagsterInstance, asset: str, week: str) -> EventLogRecord | None:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[week]), limit=1
    ).records
    return records[0] if records else None


def run_family_is_over(instance: DagsterInstance, run_id: str, modified: float, quiet_seconds: float) -> bool:
    """Whether the run that wrote something, and every re-execution of it, has finished: until then it
    may still read what it wrote. A run this instance does not know (a CLI run on a temporary instance,
    say) counts as over once what it wrote has been left unchanged for ``quiet_seconds``."""
    known = instance.get_run_by_id(run_id)
    if known is None:
        return time.time() - modified > quiet_seconds
    root = known.root_run_id or known.run_id
    family = [known, *instance.get_runs(filters=RunsFilter(tags={ROOT_RUN_TAG: root}))]
    if root != known.run_id and (first := instance.get_run_by_id(root)):
        family.append(first)
    return all(member.is_finished for member in family)


def export_manifest(context: OpExecutionContext, asset: str = "jsonl_export") -> ExportManifest | None:
    """What the export that the week's materialization of ``asset`` (``jsonl_export`` or
    ``export_registry``) names wrote, as the instance recorded it: this run's, or the one of the run it
    re-executes, else the latest. None when the week has none."""
    record = week_materialization(context.instance, context.run, asset, context.partition_key)
    return manifest_of(record) if record is not None else None


def manifest_of(record: EventLogRecord) -> ExportManifest:
    recorded = metadata_of(record).get(MANIFEST)
    if recorded is None:
        raise Failure(
            f"{record.asset_key.to_user_string()} for week {record.partition_key} (run {record.run_id}) was recorded "
            "without its export's manifest, by an earlier version: materialize jsonl_export for the week again",
            allow_retries=False,
        )
    return ExportManifest.from_dict(recorded)
