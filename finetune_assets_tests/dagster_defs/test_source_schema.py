"""Source schema drift is named before a week's first query: the table, the column, the type expected
and the type found, once (no retry), and nothing is written."""

import pytest
from dagster import DagsterInstance
from sqlalchemy import create_engine

from ..seed import audit_rows, materialize_week, small_week

DRIFTS = {
    "output_json as text": (
        "ALTER TABLE agent_sessions ALTER COLUMN output_json TYPE text",
        "coordinator_decisions",
        "agent_sessions.output_json: expected JSONB, found TEXT",
    ),
    "collected_at without time zone": (
        "ALTER TABLE incident_evidence ALTER COLUMN collected_at TYPE timestamp without time zone",
        "successful_evidence",
        "incident_evidence.collected_at: expected TIMESTAMP WITH TIME ZONE, found TIMESTAMP WITHOUT TIME ZONE",
    ),
    "success as text": (
        "ALTER TABLE auto_repair_executions ALTER COLUMN success TYPE text",
        "repair_actions",
        "auto_repair_executions.success: expected BOOLEAN, found TEXT",
    ),
    "a column dropped": (
        "ALTER TABLE incident_evidence DROP COLUMN matched_playbook_id",
        "successful_evidence",
        "incident_evidence.matched_playbook_id is missing (expected VARCHAR)",
    ),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_a_drifted_source_column_is_named_before_any_query(postgres_url, tmp_path, drift):
    statement, step, says = DRIFTS[drift]
    small_week(postgres_url)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()
    result = materialize_week(postgres_url, tmp_path, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    failures = {event.step_key: event for event in result.all_events if event.event_type_value == "STEP_FAILURE"}
    retried = [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert step in failures and not retried
    message = str(failures[step].event_specific_data.error)
    assert "the source tables differ from finetune_assets/db/schema.py" in message and says in message, message
    assert not (tmp_path / "2026-11-09").exists() and audit_rows(postgres_url) == []


def test_lengths_and_widths_of_the_same_kind_are_not_drift(postgres_url, tmp_path):
    small_week(postgres_url)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE incident_evidence ALTER COLUMN schema_version TYPE varchar(32)")
        connection.exec_driver_sql("ALTER TABLE incidents ALTER COLUMN id TYPE text")
    engine.dispose()
    assert materialize_week(postgres_url, tmp_path).success
