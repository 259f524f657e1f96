"""Column schemas and column lineage, as the asset catalog shows them to an ML engineer."""

import pyarrow as pa
from dagster import AssetKey, TableColumn, TableColumnConstraints, TableColumnDep, TableColumnLineage, TableSchema
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from ..core.pairs import METADATA_KEYS

POSTGRESQL = postgresql.dialect()
COLUMN_SCHEMA = "dagster/column_schema"
COLUMN_LINEAGE = "dagster/column_lineage"


def table_schema(table: Table) -> TableSchema:
    """A source table's columns, from its SQLAlchemy definition."""
    return TableSchema(
        columns=[
            TableColumn(
                column.name,
                str(column.type.compile(dialect=POSTGRESQL)),
                constraints=TableColumnConstraints(nullable=bool(column.nullable), unique=column.primary_key),
            )
            for column in table.columns
        ]
    )


def arrow_schema(schema: pa.Schema, descriptions: dict[str, str] | None = None) -> TableSchema:
    descriptions = descriptions or {}
    return TableSchema(columns=[TableColumn(f.name, str(f.type), descriptions.get(f.name)) for f in schema])


def _from(table: str, *columns: str) -> list[TableColumnDep]:
    return [TableColumnDep(asset_key=AssetKey(table), column_name=column) for column in columns]


PAIR_COLUMN_LINEAGE = TableColumnLineage(
    deps_by_column={
        "input": _from("incident_evidence", "evidence_summary"),
        "output": [
            *_from("agent_sessions", "output_json"),
            *_from("auto_repair_executions", "executed_steps", "playbook_name", "success"),
        ],
        "evidence_id": _from("incident_evidence", "id"),
        "incident_id": _from("incident_evidence", "incident_id"),
        "alertname": [*_from("incidents", "signal_labels"), *_from("incident_evidence", "incident_id")],
        "verification_result": _from("incident_evidence", "verification_result"),
        "collected_at": _from("incident_evidence", "collected_at"),
        "schema_version": _from("incident_evidence", "schema_version"),
        "matched_playbook_id": _from("incident_evidence", "matched_playbook_id"),
    }
)

JSONL_COLUMNS = TableSchema(
    columns=[
        TableColumn("instruction", "string", "the fixed task text"),
        TableColumn("input", "string", "the evidence summary, trimmed"),
        TableColumn("output", "string", "[AI 決策] reasoning, [執行動作] action, [執行結果] outcome"),
        TableColumn("metadata", "struct", "keys: " + ", ".join(METADATA_KEYS) + " (all strings)"),
    ]
)

JSONL_COLUMN_LINEAGE = TableColumnLineage(
    deps_by_column={
        "input": [TableColumnDep(asset_key=AssetKey("training_pairs"), column_name="input")],
        "output": [TableColumnDep(asset_key=AssetKey("training_pairs"), column_name="output")],
        "metadata": [TableColumnDep(asset_key=AssetKey("training_pairs"), column_name=key) for key in METADATA_KEYS],
    }
)
