"""Extract: one set-based query per asset and week, streamed from the database into staged Parquet."""

from collections import Counter

import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Backoff,
    Jitter,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    RetryPolicy,
    asset,
)

from ...core import staged_tables
from ...core.pair_columns import drop_blank_summaries, with_action, with_reasoning
from ...db.queries import coordinator_decisions_query, db_timestamp, repair_actions_query, successful_evidence_query
from ...db.source_stream import stream_query
from ...io.staging import staged_path, write_batches
from ..catalog import COLUMN_SCHEMA, arrow_schema
from ..failures import fail_without_retry_unless_transient
from ..previews import BatchTap, batch_preview
from ..resources import AiopsDatabase, DatasetPolicy, ExportStorage
from .sources import OWNERS

EXTRACT_GROUP = "extract"
# Connection-level failures (a restarting server, a dropped link) usually pass within seconds.
DATABASE_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


def _extract(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
    table: str,
    query,
    schema: pa.Schema,
    staged_schema: pa.Schema,
    derive,
) -> MaterializeResult:
    start, end = context.partition_time_window
    store = export_storage.staging()
    path = staged_path(store, context.asset_key.to_user_string(), context.partition_key)
    action = f"extracting {table} for week {context.partition_key} into {store.url(path)}"
    with fail_without_retry_unless_transient(action), aiops_db.read_only(action) as connection:
        dialect = connection.dialect
        statement = query(db_timestamp(start, dialect), db_timestamp(end, dialect), dialect)
        counts = Counter()
        tap = BatchTap(derive(stream_query(connection, statement, schema), counts))
        rows = write_batches(store, path, staged_schema, tap)
    metadata = {
        "dagster/row_count": rows,
        "preview": MetadataValue.md(batch_preview(tap.first, dataset_policy.redactor())),
        "staged_path": MetadataValue.path(store.url(path)),
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "source": aiops_db.display_url(),
    }
    return MaterializeResult(metadata={**metadata, **counts})


def successful_evidence(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
) -> MaterializeResult:
    """Evidence of the week whose repair was verified: `verification_result = 'success'`, a non-blank
    summary, `collected_at` in [Monday 00:00, next Monday 00:00) Asia/Taipei, with the incident's alertname."""
    return _extract(
        context,
        aiops_db,
        export_storage,
        dataset_policy,
        "incident_evidence",
        successful_evidence_query,
        staged_tables.EVIDENCE,
        staged_tables.EVIDENCE,
        drop_blank_summaries,
    )


def coordinator_decisions(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
) -> MaterializeResult:
    """For each incident of the week's successful evidence, its latest coordinator session
    (latest `created_at`, ties broken by the larger id): the agent's reasoning."""
    return _extract(
        context,
        aiops_db,
        export_storage,
        dataset_policy,
        "agent_sessions",
        coordinator_decisions_query,
        staged_tables.DECISIONS_WITH_HINT,
        staged_tables.STAGED_DECISIONS,
        with_reasoning,
    )


def repair_actions(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
) -> MaterializeResult:
    """For each incident of the week's successful evidence, its latest auto-repair execution
    (latest `created_at`, ties broken by the larger id): the action taken and whether it worked."""
    return _extract(
        context,
        aiops_db,
        export_storage,
        dataset_policy,
        "auto_repair_executions",
        repair_actions_query,
        staged_tables.ACTIONS_WITH_HINT,
        staged_tables.STAGED_ACTIONS,
        with_action,
    )


def extract_assets(weeks: PartitionsDefinition) -> list[AssetsDefinition]:
    def extract(deps: list[str], schema: pa.Schema, descriptions: dict[str, str] | None = None):
        return asset(
            partitions_def=weeks,
            group_name=EXTRACT_GROUP,
            kinds={"postgres", "parquet"},
            owners=OWNERS,
            deps=deps,
            retry_policy=DATABASE_RETRY,
            metadata={COLUMN_SCHEMA: arrow_schema(schema, descriptions)},
        )

    return [
        extract(
            ["incident_evidence", "incidents"],
            staged_tables.EVIDENCE,
            {"ordinal": "position in export order (collected_at, id)"},
        )(successful_evidence),
        extract(
            ["agent_sessions", "successful_evidence"],
            staged_tables.STAGED_DECISIONS,
            {"reasoning": "the [AI 決策] text, by the pair rules"},
        )(coordinator_decisions),
        extract(
            ["auto_repair_executions", "successful_evidence"],
            staged_tables.STAGED_ACTIONS,
            {"action": "the [執行動作] text, by the pair rules"},
        )(repair_actions),
    ]
