"""The AIOps tables, declared as external assets so the lineage starts where the data does."""

from dagster import AssetSpec

SOURCE_GROUP = "aiops_sources"
OWNERS = ["team:ml-platform"]

incidents = AssetSpec(
    "incidents",
    description="AIOps incidents; `signal_labels->>'alertname'` names the alert. Owned by the AIOps platform.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
incident_evidence = AssetSpec(
    "incident_evidence",
    description="Evidence snapshots: what went wrong and whether the repair was verified.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
agent_sessions = AssetSpec(
    "agent_sessions",
    description="Agent sessions; the coordinator's `output_json` holds its reasoning and decision.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)
auto_repair_executions = AssetSpec(
    "auto_repair_executions",
    description="Auto-repair executions: the playbook, its executed steps and whether it succeeded.",
    group_name=SOURCE_GROUP,
    kinds={"postgres", "table"},
    owners=OWNERS,
)

SOURCE_ASSETS = [incidents, incident_evidence, agent_sessions, auto_repair_executions]
