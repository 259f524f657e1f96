"""The AIOps tables, declared as external assets so the lineage starts where the data does."""

from dagster import AssetSpec
from sqlalchemy import Table

from ...dagster_defs.catalog import COLUMN_SCHEMA, table_schema
from ...db import schema

SOURCE_GROUP = "aiops_sources"
OWNERS = ["team:ml-platform"]


def source_table(table: Table, description: str) -> AssetSpec:
    """An AIOps table as an external asset, its columns from its SQLAlchemy definition."""
    return AssetSpec(
        table.name,
        metadata={COLUMN_SCHEMA: table_schema(table)},
        description=description,
        group_name=SOURCE_GROUP,
        kinds={"postgres", "table"},
        owners=OWNERS,
    )


incidents = source_table(
    schema.incidents,
    "AIOps incidents; `signal_labels->>'alertname'` names the alert. Owned by the AIOps platform.",
)
incident_evidence = source_table(
    schema.incident_evidence, "Evidence snapshots: what went wrong and whether the repair was verified."
)
agent_sessions = source_table(
    schema.agent_sessions, "Agent sessions; the coordinator's `output_json` holds its reasoning and decision."
)
auto_repair_executions = source_table(
    schema.auto_repair_executions, "Auto-repair executions: the playbook, its executed steps and whether it succeeded."
)

# Upstream of export_registry, which reads it (is this file registered yet?) before appending its
# row: downstream of it, the table would fall inside `successful_evidence*`, and an external asset
# cannot be materialized.
finetune_exports = source_table(
    schema.finetune_exports,
    "The audit table of every fine-tune export, one row per file; `export_registry` appends to it "
    "(creating it when missing).",
)

SOURCE_ASSETS = [incidents, incident_evidence, agent_sessions, auto_repair_executions, finetune_exports]
