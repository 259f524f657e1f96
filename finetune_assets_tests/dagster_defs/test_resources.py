"""The database resource: read-only source access, clear errors, no password anywhere."""

from pathlib import Path

import pytest
from dagster import Failure
from pydantic import ValidationError
from sqlalchemy import text

from finetune_assets.dagster_defs.resources import AiopsDatabase, DatasetPolicy, ExportStorage, default_staging_path
from finetune_assets.db.connection import TransientDatabaseError


def test_source_reads_are_read_only(database_url):
    database = AiopsDatabase(url=database_url)
    with pytest.raises(Failure, match="writing through a read-only"):
        with database.read_only("writing through a read-only connection") as connection:
            connection.execute(text("INSERT INTO incidents (id) VALUES ('INC-X')"))
    with database.read_only("counting incidents") as connection:
        assert connection.execute(text("SELECT count(*) FROM incidents")).scalar() == 0


def test_display_url_hides_the_password(postgres_server, postgres_url):
    shown = AiopsDatabase(url=postgres_url).display_url()
    assert postgres_server.password not in shown
    assert "***" in shown and f":{postgres_server.port}/" in shown


def test_wrong_password_fails_at_once_with_where_and_without_the_secret(postgres_server):
    url = postgres_server.url().replace(postgres_server.password, "not-the-password-4711")
    with pytest.raises(Failure) as failure:
        with AiopsDatabase(url=url).read_only("reading incident_evidence"):
            pass
    message = failure.value.description
    assert "reading incident_evidence" in message and f"127.0.0.1:{postgres_server.port}" in message
    assert "password authentication failed" in message
    assert "not-the-password-4711" not in message and postgres_server.password not in message


def test_an_unreachable_server_is_transient_so_the_step_asks_for_a_retry(postgres_server):
    from finetune_assets.devtools.local_postgres import free_port

    url = f"postgresql+psycopg://aiops:s3cret-pw@127.0.0.1:{free_port()}/aiops"
    with pytest.raises(TransientDatabaseError) as error:
        with AiopsDatabase(url=url).read_only("reading agent_sessions"):
            pass
    assert "reading agent_sessions" in str(error.value) and "s3cret-pw" not in str(error.value)


def test_without_a_url_the_embedded_demo_database_is_built(tmp_path):
    database = AiopsDatabase(demo_path=str(tmp_path / "demo.sqlite"))
    with database.read_only("counting demo evidence") as connection:
        assert connection.execute(text("SELECT count(*) FROM incident_evidence")).scalar() > 100
    assert "embedded demo database" in database.display_url()


def test_staging_defaults_to_a_folder_of_the_users_own_outside_the_export_tree(tmp_path):
    storage = ExportStorage(export_path=str(tmp_path / "exports"))
    assert storage.staging().root == str(default_staging_path()) and storage.staging().private
    assert not Path(storage.staging().root).is_relative_to(tmp_path)
    explicit = ExportStorage(export_path=str(tmp_path), staging_path=str(tmp_path.parent / "s")).staging()
    assert explicit.root == str(tmp_path.parent / "s")


def test_a_dataset_policy_no_file_can_be_built_from_is_refused_with_every_reason():
    with pytest.raises(ValidationError) as refused:
        DatasetPolicy(
            formats=["alpaca", "parquet"], split_key="severity", validation_fraction=1.5, quarantine_limit=-0.1
        )
    message = str(refused.value)
    assert "unknown format(s) ['parquet']" in message
    assert "split_key\n  'severity' is not one of alertname, incident_id, matched_playbook" in message
    assert "validation_fraction\n  accepted: a number from 0 to 1" in message
    assert "quarantine_limit\n  accepted: a number from 0 to 1" in message
    with pytest.raises(ValidationError, match="name at least one of"):
        DatasetPolicy(formats=[])


def test_an_extra_pattern_that_does_not_compile_is_refused():
    with pytest.raises(ValidationError, match="'ticket' is not a valid RE2"):
        DatasetPolicy(extra_redaction_patterns={"ticket": "TCK-(\\d+"})
