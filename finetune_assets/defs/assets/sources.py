"""The AIOps tables, declared as external assets so the lineage starts where the data does."""

from dagster import AssetSpec

from ...dagster_defs.catalog import COLUMN_SCHEMA, table_schema
from ...db import schema

SOURCE_GROUP = "aiops_sources"
OWNERS = ["team:ml-platform"]

incidents = AssetSpec(
    "incidents",
    metadata={COLUMN_SCHEMA: table_schema(schema.incidents)},
    description="AIOps incidents; `signal_labels->>'alertname'` names the alert. Owned by the AIOps platform.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
incident_evidence = AssetSpec(
    "incident_evidence",
    metadata={COLUMN_SCHEMA: table_schema(schema.incident_evidence)},
    description="Evidence snapshots: what went wrong and whether the repair was verified.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
agent_sessions = AssetSpec(
    "agent_sessions",
    metadata={COLUMN_SCHEMA: table_schema(schema.agent_sessions)},
    description="Agent sessions; the coordinator's `output_json` holds its reasoning and decision.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
auto_repair_executions = AssetSpec(
    "auto_repair_executions",
    metadata={COLUMN_SCHEMA: table_schema(schema.auto_repair_executions)},
    description="Auto-repair executions: the playbook, its executed steps and whether it succeeded.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)

# Upstream of export_registry, which reads it (is this file registered yet?) before appending its
# row: downstream of it, the table would fall inside `successful_evidence*`, and an external asset
# cannot be materialized.
finetune_exports = AssetSpec(
    "finetune_exports",
    description="The audit table of every fine-tune export, one row per file; `export_registry` appends to it "
    "(creating it when missing).",
    metadata={COLUMN_SCHEMA: table_schema(schema.finetune_exports)},
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)

SOURCE_ASSETS = [incidents, incident_evidence, agent_sessions, auto_repair_executions, finetune_exports]
