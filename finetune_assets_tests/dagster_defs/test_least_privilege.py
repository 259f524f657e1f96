"""The grants the README lists are enough: the whole lineage, its checks and the corpus run as a role
that may only read the sources and read and append to an existing finetune_exports, with no CREATE on
the schema; without INSERT the registration fails at once, naming the table."""

import secrets

from sqlalchemy import create_engine, make_url

from finetune_assets.db.schema import finetune_exports

from ..corpus_weeks import build_corpus
from ..seed import audit_rows, materialization_metadata, materialize_week, small_week

# What the README's "Database grants" section lists, word for word in effect.
GRANTS = [
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT ON incidents, incident_evidence, agent_sessions, auto_repair_executions TO {role}",
    "GRANT SELECT, INSERT ON finetune_exports TO {role}",
]


def _as_role(postgres_url: str, grants: list[str]) -> str:
    """Creates the role (finetune_exports made beforehand by its owner) and returns its URL."""
    role, password = f"finetune_pipeline_{secrets.token_hex(4)}", secrets.token_urlsafe(12)  # roles span databases
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        finetune_exports.create(connection)
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        for grant in grants:
            connection.exec_driver_sql(grant.format(role=role))
    engine.dispose()
    return make_url(postgres_url).set(username=role, password=password).render_as_string(hide_password=False)


def test_the_whole_lineage_and_the_corpus_run_with_only_the_listed_grants(postgres_url, tmp_path):
    small_week(postgres_url)
    url = _as_role(postgres_url, GRANTS)
    result = materialize_week(url, tmp_path)
    assert all(check.passed for check in result.get_asset_check_evaluations() if check.check_name != "token_lengths")
    assert len(audit_rows(postgres_url)) == 1
    corpus = build_corpus(url, tmp_path)
    assert materialization_metadata(corpus, "training_corpus")["dagster/row_count"] == 3


def test_without_insert_the_registration_fails_at_once_naming_the_table(postgres_url, tmp_path):
    small_week(postgres_url)
    url = _as_role(postgres_url, [grant.replace("SELECT, INSERT", "SELECT") for grant in GRANTS])
    result = materialize_week(url, tmp_path, raise_on_error=False)
    failures = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    retries = [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [event.step_key for event in failures] == ["export_registry"] and not retries
    assert "permission denied for table finetune_exports" in str(failures[0].event_specific_data.error)
    assert audit_rows(postgres_url) == []
