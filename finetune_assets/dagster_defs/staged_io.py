"""The IO manager of the intermediate assets (the extracts and the training pairs): each
materialization streamed into a Parquet file of its own in the owner-only staging store, and each input
read from the materialization Dagster says it comes from.

- A step whose upstream ran in the same run (or in the run it re-executes from failure) reads that
  run's file, as the instance recorded it, even when another run of the week recorded one since.
- A step run alone, in a later run, reads the latest materialization of the upstream week the instance
  has recorded. A file is recorded only once complete, so no run reads another's half-written rows.
- After each write, the (asset, week)'s superseded files go by the retention rule (``leftovers``).
"""

from dagster import (
    ConfigurableIOManager,
    DagsterInstance,
    DagsterRun,
    Failure,
    InitResourceContext,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
    RetryRequested,
)
from pydantic import Field, PrivateAttr

from ..io.staging import StagedRows, StagedTable, staged_path, write_batches
from .leftovers import sweep_superseded
from .materializations import week_materialization
from .resources import ExportStorage
from .setting_types import Days

DEFAULT_RETENTION_DAYS = 7.0
STAGED_IO = "staged_io"


class StagedParquetIOManager(ConfigurableIOManager):
    """Intermediate assets as partition- and run-keyed Parquet files in the staging store."""

    export_storage: ResourceDependency[ExportStorage]
    retention_days: Days = Field(
        default=DEFAULT_RETENTION_DAYS,
        description="FINETUNE_STAGING_RETENTION: days a superseded intermediate file is kept; the latest "
        "materialization of each week is always kept.",
    )

    _instance: DagsterInstance | None = PrivateAttr(default=None)
    _run: DagsterRun | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # What the instance has recorded for this run decides which files are read and which may go.
        self._instance, self._run = context.instance, context.run

    def handle_output(self, context: OutputContext, obj: StagedRows) -> None:
        asset, week = context.asset_key.to_user_string(), context.asset_partition_key
        store = self.export_storage.staging()
        path = staged_path(store, asset, week, context.run_id)
        try:
            rows = write_batches(store, path, obj.schema, obj.batches)
        except (Failure, RetryRequested):
            raise
        except Exception as error:
            raise Failure(
                f"{obj.action} into {store.url(path)} failed: {type(error).__name__}: {error}", allow_retries=False
            ) from error
        context.add_output_metadata(
            {**obj.metadata(), "dagster/row_count": rows, "staged_file": MetadataValue.path(store.url(path))}
        )
        swept = sweep_superseded(self._instance, store, asset, week, context.run_id, self.retention_days * 86_400)
        if swept:
            context.log.info(
                f"{asset} week {week}: removed {len(swept)} superseded staged file(s) "
                f"(FINETUNE_STAGING_RETENTION={self.retention_days:g} days): {', '.join(swept)}"
            )

    def load_input(self, context: InputContext) -> StagedTable:
        asset, week = context.asset_key.to_user_string(), context.asset_partition_key
        store = self.export_storage.staging()
        record = week_materialization(self._instance, self._run, asset, week)
        if record is None:
            raise Failure(
                f"{asset} has no materialization of week {week} recorded in this Dagster instance: materialize "
                f"it first (select {asset}* for the whole lineage)",
                allow_retries=False,
            )
        path = staged_path(store, asset, week, record.run_id)
        if not store.exists(path):
            raise Failure(
                f"{asset} of week {week}, as materialized by run {record.run_id}, is no longer staged at "
                f"{store.url(path)} (superseded files go after FINETUNE_STAGING_RETENTION; or FINETUNE_STAGING_PATH "
                f"changed): materialize {asset} for this week again",
                allow_retries=False,
            )
        context.add_input_metadata({"staged_file": MetadataValue.path(store.url(path)), "read_from_run": record.run_id})
        return StagedTable(store, path)
