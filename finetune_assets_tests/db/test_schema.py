"""The schema, written once: the DDL generated from it is the platform's own."""

from sqlalchemy import create_engine, text

# The platform's tables as it defines them (column, type, nullable), in column order.
PLATFORM = {
    "incidents": [("id", "character varying", "NO"), ("signal_labels", "jsonb", "YES")],
    "incident_evidence": [
        ("id", "uuid", "NO"),
        ("incident_id", "character varying", "NO"),
        ("verification_result", "character varying", "YES"),
        ("evidence_summary", "text", "YES"),
        ("collected_at", "timestamp with time zone", "NO"),
        ("schema_version", "character varying", "YES"),
        ("matched_playbook_id", "character varying", "YES"),
    ],
    "agent_sessions": [
        ("id", "uuid", "NO"),
        ("incident_id", "character varying", "NO"),
        ("agent_role", "character varying", "NO"),
        ("output_json", "jsonb", "YES"),
        ("created_at", "timestamp with time zone", "NO"),
    ],
    "auto_repair_executions": [
        ("id", "uuid", "NO"),
        ("incident_id", "character varying", "NO"),
        ("playbook_name", "character varying", "YES"),
        ("executed_steps", "jsonb", "YES"),
        ("success", "boolean", "NO"),
        ("created_at", "timestamp with time zone", "NO"),
    ],
}


def test_the_generated_ddl_creates_the_platforms_tables(postgres_url):
    # postgres_url's database was created with db.schema.source_ddl() (conftest)
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        found = {
            table: [
                tuple(row)
                for row in connection.execute(
                    text(
                        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                        "WHERE table_name = :table ORDER BY ordinal_position"
                    ),
                    {"table": table},
                )
            ]
            for table in PLATFORM
        }
        keys = dict(
            connection.execute(
                text(
                    "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
                    "JOIN information_schema.key_column_usage kcu USING (constraint_name) "
                    "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'"
                )
            ).all()
        )
    engine.dispose()
    assert found == PLATFORM
    assert keys == dict.fromkeys(PLATFORM, "id")
