"""Extract: one set-based query per asset and week, streamed from a server-side cursor into Parquet."""

from collections import Counter
from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetExecutionContext, Backoff, Jitter, MaterializeResult, MetadataValue, RetryPolicy, asset

from ..assembly import parse_json_text
from ..failures import fail_without_retry_unless_transient
from ..lineage import COLUMN_SCHEMA, arrow_schema
from ..partitions import weekly_partitions
from ..previews import BatchTap, batch_preview
from ..queries import (
    coordinator_decisions_query,
    db_timestamp,
    repair_actions_query,
    successful_evidence_query,
)
from ..resources import AiopsDatabase, DatasetPolicy, ExportStorage
from ..pairs import action_text, reasoning_text
from ..source_stream import stream_query
from ..staging import staged_path, write_batches
from ..text import non_blank
from .sources import OWNERS, agent_sessions, auto_repair_executions, incident_evidence, incidents

EXTRACT_GROUP = "extract"
# Connection-level failures (a restarting server, a dropped link) usually pass within seconds.
DATABASE_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

TIMESTAMP = pa.timestamp("us", tz="UTC")

EVIDENCE_SCHEMA = pa.schema(
    [
        ("ordinal", pa.int64()),
        ("id", pa.string()),
        ("incident_id", pa.string()),
        ("evidence_summary", pa.large_string()),
        ("collected_at", TIMESTAMP),
        ("verification_result", pa.string()),
        ("schema_version", pa.string()),
        ("matched_playbook_id", pa.string()),
        ("alertname", pa.string()),
    ]
)
DECISIONS_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("session_id", pa.string()),
        ("output_json", pa.large_string()),
        ("created_at", TIMESTAMP),
    ]
)
ACTIONS_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("execution_id", pa.string()),
        ("playbook_name", pa.string()),
        ("executed_steps", pa.large_string()),
        ("success", pa.bool_()),
        ("created_at", TIMESTAMP),
    ]
)
# What the pair rules make of each row is derived here, in the extract steps that run side by side.
STAGED_DECISIONS_SCHEMA = DECISIONS_SCHEMA.append(pa.field("reasoning", pa.large_string()))
STAGED_ACTIONS_SCHEMA = ACTIONS_SCHEMA.append(pa.field("action", pa.large_string()))
# The database's answer for the common case (queries.json_string_at), used and then dropped.
REASONING_HINT = pa.field("reasoning_hint", pa.large_string())
ACTION_HINT = pa.field("action_hint", pa.large_string())


def drop_blank_summaries(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    """SQL trim() only strips spaces; a summary of other white space is blank as well."""
    for batch in batches:
        kept = batch.filter(pa.array(non_blank(batch.column("evidence_summary"))))
        counts["blank_summaries_skipped"] += batch.num_rows - kept.num_rows
        yield kept


def derived_column(batch: pa.RecordBatch, hint: str, rule: Callable[[pa.RecordBatch], list]) -> pa.Array:
    """The rule's text for each row: the database's hint where it is the answer (a non-blank JSON
    string, which the rules return as it is), else the rule applied in Python to the other rows."""
    hints = batch.column(hint)
    answered = non_blank(hints)
    if answered.all():
        return hints
    others = ~answered
    values = rule(batch.filter(pa.array(others)))
    return pc.replace_with_mask(hints, pa.array(others), pa.array(values, hints.type))


def with_reasoning(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    counts.update(dict.fromkeys(("unparseable_json", "json_too_deep"), 0))  # shown as 0, not missing

    def rule(rows: pa.RecordBatch) -> list:
        return [reasoning_text(parse_json_text(text, counts)) for text in rows.column("output_json").to_pylist()]

    for batch in batches:
        reasoning = derived_column(batch, REASONING_HINT.name, rule)
        derived = STAGED_DECISIONS_SCHEMA.field("reasoning")
        yield batch.drop_columns([REASONING_HINT.name]).append_column(derived, reasoning)


def with_action(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    counts.update(dict.fromkeys(("unparseable_json", "json_too_deep"), 0))  # shown as 0, not missing

    def rule(rows: pa.RecordBatch) -> list:
        columns = zip(rows.column("executed_steps").to_pylist(), rows.column("playbook_name").to_pylist())
        return [action_text(parse_json_text(steps, counts), playbook) for steps, playbook in columns]

    for batch in batches:
        action = derived_column(batch, ACTION_HINT.name, rule)
        derived = STAGED_ACTIONS_SCHEMA.field("action")
        yield batch.drop_columns([ACTION_HINT.name]).append_column(derived, action)


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
) -> dict:
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
    return {**metadata, **counts}


@asset(
    partitions_def=weekly_partitions,
    group_name=EXTRACT_GROUP,
    kinds={"postgres", "parquet"},
    owners=OWNERS,
    deps=[incident_evidence, incidents],
    retry_policy=DATABASE_RETRY,
    metadata={COLUMN_SCHEMA: arrow_schema(EVIDENCE_SCHEMA, {"ordinal": "position in export order (collected_at, id)"})},
)
def successful_evidence(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """Evidence of the week whose repair was verified: `verification_result = 'success'`, a non-blank
    summary, `collected_at` in [Monday 00:00, next Monday 00:00) Asia/Taipei, with the incident's alertname."""
    metadata = _extract(
        context, aiops_db, export_storage, dataset_policy, "incident_evidence", successful_evidence_query, EVIDENCE_SCHEMA,
        EVIDENCE_SCHEMA, drop_blank_summaries,
    )
    return MaterializeResult(metadata=metadata)


@asset(
    partitions_def=weekly_partitions,
    group_name=EXTRACT_GROUP,
    kinds={"postgres", "parquet"},
    owners=OWNERS,
    deps=[agent_sessions, successful_evidence],
    retry_policy=DATABASE_RETRY,
    metadata={COLUMN_SCHEMA: arrow_schema(STAGED_DECISIONS_SCHEMA, {"reasoning": "the [AI 決策] text, by the pair rules"})},
)
def coordinator_decisions(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """For each incident of the week's successful evidence, its latest coordinator session
    (latest `created_at`, ties broken by the larger id): the agent's reasoning."""
    metadata = _extract(
        context, aiops_db, export_storage, dataset_policy, "agent_sessions", coordinator_decisions_query,
        DECISIONS_SCHEMA.append(REASONING_HINT), STAGED_DECISIONS_SCHEMA, with_reasoning,
    )
    return MaterializeResult(metadata=metadata)


@asset(
    partitions_def=weekly_partitions,
    group_name=EXTRACT_GROUP,
    kinds={"postgres", "parquet"},
    owners=OWNERS,
    deps=[auto_repair_executions, successful_evidence],
    retry_policy=DATABASE_RETRY,
    metadata={COLUMN_SCHEMA: arrow_schema(STAGED_ACTIONS_SCHEMA, {"action": "the [執行動作] text, by the pair rules"})},
)
def repair_actions(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """For each incident of the week's successful evidence, its latest auto-repair execution
    (latest `created_at`, ties broken by the larger id): the action taken and whether it worked."""
    metadata = _extract(
        context, aiops_db, export_storage, dataset_policy, "auto_repair_executions", repair_actions_query,
        ACTIONS_SCHEMA.append(ACTION_HINT), STAGED_ACTIONS_SCHEMA, with_action,
    )
    return MaterializeResult(metadata=metadata)
