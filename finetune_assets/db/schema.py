"""The AIOps tables as SQLAlchemy Core definitions: the one place the schema is written down.

The pipeline only reads the four source tables; it creates ``finetune_exports`` when missing. The
tests, the demo and the benchmark create the source tables from these definitions (``source_ddl``).
Types degrade to portable ones on SQLite, the embedded demo database.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, CHAR, JSONB
from sqlalchemy.schema import CreateTable

JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
UUID_TEXT = Uuid(as_uuid=False)
TIMESTAMPTZ = DateTime(timezone=True)

metadata = MetaData()

incidents = Table(
    "incidents",
    metadata,
    Column("id", String, primary_key=True),
    Column("signal_labels", JSON_DOCUMENT),
)

incident_evidence = Table(
    "incident_evidence",
    metadata,
    Column("id", UUID_TEXT, primary_key=True),
    Column("incident_id", String, nullable=False),
    Column("verification_result", String),
    Column("evidence_summary", Text),
    Column("collected_at", TIMESTAMPTZ, nullable=False),
    Column("schema_version", String),
    Column("matched_playbook_id", String),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("id", UUID_TEXT, primary_key=True),
    Column("incident_id", String, nullable=False),
    Column("agent_role", String, nullable=False),
    Column("output_json", JSON_DOCUMENT),
    Column("created_at", TIMESTAMPTZ, nullable=False),
)

auto_repair_executions = Table(
    "auto_repair_executions",
    metadata,
    Column("id", UUID_TEXT, primary_key=True),
    Column("incident_id", String, nullable=False),
    Column("playbook_name", String),
    Column("executed_steps", JSON_DOCUMENT),
    Column("success", Boolean, nullable=False),
    Column("created_at", TIMESTAMPTZ, nullable=False),
)

SOURCE_TABLES = (incidents, incident_evidence, agent_sessions, auto_repair_executions)

finetune_exports = Table(
    "finetune_exports",
    metadata,
    # SQLite only auto-increments an INTEGER PRIMARY KEY.
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        Identity(always=False),
        primary_key=True,
    ),
    Column("export_type", Text, nullable=False),
    Column("source_table", Text, nullable=False),
    Column("source_ids", JSON().with_variant(ARRAY(Text), "postgresql"), nullable=False),
    Column("file_path", Text, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("size_bytes", BigInteger),
    Column("checksum_sha256", String(64).with_variant(CHAR(64), "postgresql")),
    Column("metadata", JSON_DOCUMENT),
    Column("created_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
)


def source_ddl() -> str:
    """The source tables' CREATE TABLE statements for PostgreSQL, as the platform defines them."""
    dialect = postgresql.dialect()
    return ";\n".join(str(CreateTable(table).compile(dialect=dialect)).strip() for table in SOURCE_TABLES) + ";\n"
