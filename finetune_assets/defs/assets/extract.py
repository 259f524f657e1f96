"""Extract: one set-based query per asset and week, streamed from the database into staged Parquet
(written by the ``staged_io`` IO manager)."""

from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
from dagster import AssetExecutionContext, MetadataValue, asset

from ...core import staged_tables
from ...core.pair_columns import drop_blank_summaries, with_action, with_reasoning
from ...core.weeks import week_window
from ...dagster_defs.catalog import COLUMN_SCHEMA, arrow_schema
from ...dagster_defs.failures import failing_as
from ...dagster_defs.partitions import WEEKS
from ...dagster_defs.previews import BatchTap, extract_preview
from ...dagster_defs.resources import AiopsDatabase, DatasetPolicy
from ...dagster_defs.staged_io import STAGED_IO
from ...db.queries import coordinator_decisions_query, db_timestamp, repair_actions_query, successful_evidence_query
from ...db.schema_check import check_source_schema
from ...db.source_stream import streamed
from ...io.staging import StagedRows
from .sources import OWNERS

EXTRACT_GROUP = "extract"
# What every extract shares; each adds the tables it reads and the columns it stages. Each also takes
# the dataset policy, though it uses none of it: a wrong policy then fails the run at its first step,
# before the database is read.
EXTRACTED = {
    "partitions_def": WEEKS,
    "group_name": EXTRACT_GROUP,
    "kinds": {"postgres", "parquet"},
    "owners": OWNERS,
    "io_manager_key": STAGED_IO,
}


def _extract(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    tables: tuple[str, ...],
    query,
    schema: pa.Schema,
    staged_schema: pa.Schema,
    derive,
) -> StagedRows:
    if aiops_db.url is None and context.asset_key.to_user_string() == "successful_evidence":
        context.log.warning(
            f"AIOPS_DATABASE_URL is unset: reading the embedded demo database {aiops_db.demo_path}, "
            "synthetic incidents, not the platform's"
        )
    week = context.partition_key
    start, end = week_window(week)
    action = f"extracting {tables[0]} for week {week}"
    counts = Counter()

    def batches() -> Iterator[pa.RecordBatch]:
        # Streamed straight into the staged file by the IO manager; closing this generator (the write
        # failed, say) ends the query and its transaction at once.
        with failing_as(context, action), aiops_db.read_only(action, tables) as connection:
            check_source_schema(connection, tables)
            dialect = connection.dialect
            statement = query(db_timestamp(start, dialect), db_timestamp(end, dialect), dialect)
            with streamed(connection, statement, schema) as rows:
                yield from derive(rows, counts)

    tap = BatchTap(batches())

    def metadata() -> dict:
        return {
            "preview": MetadataValue.md(extract_preview(tap.first)),
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "source": aiops_db.source,
            **counts,
        }

    return StagedRows(staged_schema, tap, metadata, action)


@asset(
    **EXTRACTED,
    deps=["incident_evidence", "incidents"],
    metadata={
        COLUMN_SCHEMA: arrow_schema(staged_tables.EVIDENCE, {"ordinal": "position in export order (collected_at, id)"})
    },
)
def successful_evidence(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    dataset_policy: DatasetPolicy,
) -> StagedRows:
    """Evidence of the week whose repair was verified: `verification_result = 'success'`, a non-blank
    summary, `collected_at` in [Monday 00:00, next Monday 00:00) Asia/Taipei, with the incident's alertname."""
    return _extract(
        context,
        aiops_db,
        ("incident_evidence", "incidents"),
        successful_evidence_query,
        staged_tables.EVIDENCE,
        staged_tables.EVIDENCE,
        drop_blank_summaries,
    )


@asset(
    **EXTRACTED,
    deps=["agent_sessions", "successful_evidence"],
    metadata={
        COLUMN_SCHEMA: arrow_schema(
            staged_tables.STAGED_DECISIONS, {"reasoning": "the [AI 決策] text, by the pair rules"}
        )
    },
)
def coordinator_decisions(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    dataset_policy: DatasetPolicy,
) -> StagedRows:
    """For each incident of the week's successful evidence, its latest coordinator session
    (latest `created_at`, ties broken by the larger id): the agent's reasoning."""
    return _extract(
        context,
        aiops_db,
        ("agent_sessions", "incident_evidence"),
        coordinator_decisions_query,
        staged_tables.DECISIONS_WITH_HINT,
        staged_tables.STAGED_DECISIONS,
        with_reasoning,
    )


@asset(
    **EXTRACTED,
    deps=["auto_repair_executions", "successful_evidence"],
    metadata={
        COLUMN_SCHEMA: arrow_schema(staged_tables.STAGED_ACTIONS, {"action": "the [執行動作] text, by the pair rules"})
    },
)
def repair_actions(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    dataset_policy: DatasetPolicy,
) -> StagedRows:
    """For each incident of the week's successful evidence, its latest auto-repair execution
    (latest `created_at`, ties broken by the larger id): the action taken and whether it worked."""
    return _extract(
        context,
        aiops_db,
        ("auto_repair_executions", "incident_evidence"),
        repair_actions_query,
        staged_tables.ACTIONS_WITH_HINT,
        staged_tables.STAGED_ACTIONS,
        with_action,
    )
