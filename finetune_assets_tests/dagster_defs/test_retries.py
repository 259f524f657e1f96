"""The retry rule, on a real server: a failure a retry could fix is retried (three times, backing off),
by the steps and by the checks that read the registry, through a real server restart; one it could not
(bad credentials, a port out of range, SSL the server lacks, a bad `options` value) fails at once."""

import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    materialize,
)

from finetune_assets.devtools.local_postgres import LocalPostgres, free_port

from ..corpus_weeks import CORPUS_ASSETS, CORPUS_CHECKS, build_corpus
from ..seed import ASSET_CHECKS, LINEAGE_ASSETS, WEEK, materialize_week, resources, small_week, source_database


def _events(url: str, tmp_path) -> list[str]:
    result = materialize(
        LINEAGE_ASSETS, selection=AssetSelection.assets("successful_evidence"), partition_key=WEEK,
        resources=resources(url, tmp_path), instance=DagsterInstance.ephemeral(), raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    return [event.event_type_value for event in result.all_events if event.step_key == "successful_evidence"]


def test_a_server_that_is_not_there_yet_is_retried_three_times(tmp_path):
    events = _events(f"postgresql+psycopg://aiops:pw@127.0.0.1:{free_port()}/aiops", tmp_path)
    assert events.count("STEP_UP_FOR_RETRY") == 3 and events.count("STEP_FAILURE") == 1


def test_bad_credentials_fail_at_once(postgres_server, tmp_path):
    url = postgres_server.url().replace(postgres_server.password, "not-the-password")
    events = _events(url, tmp_path)
    assert events.count("STEP_UP_FOR_RETRY") == 0 and events.count("STEP_FAILURE") == 1


# The checks on export_registry that read the registry.
DATABASE_CHECKS = ("audit_rows_match_files", "week_is_usual")
PERMANENT = {
    "a port out of range": lambda url, port: url.replace(f":{port}/", ":99999/"),
    "SSL the server lacks": lambda url, port: url + "?sslmode=require",
    "a bad options value": lambda url, port: url + "?options=-c%20statement_timeout%3Dbanana",
    "an unknown setting in options": lambda url, port: url + "?options=-c%20no_such_setting%3D1",
}


@pytest.mark.parametrize("case", list(PERMANENT))
def test_a_connection_error_no_retry_fixes_fails_at_once(postgres_server, tmp_path, case):
    events = _events(PERMANENT[case](postgres_server.url(), postgres_server.port), tmp_path)
    assert events.count("STEP_UP_FOR_RETRY") == 0 and events.count("STEP_FAILURE") == 1


@pytest.fixture
def restartable():
    """A server of this test's own, whose cluster survives a restart on the same port (in a folder the
    cluster's owner can reach, which pytest's private temporary folders are not)."""
    directory = Path(tempfile.mkdtemp(prefix="finetune-pg-restart-"))
    server = LocalPostgres(directory=directory, keep=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _restarted_while(server: LocalPostgres, down_seconds: float, run):
    """Stops the server, starts ``run`` while it is down, and brings the server back after ``down_seconds``."""
    server.stop()
    back = threading.Timer(down_seconds, server.start)
    back.start()
    try:
        return run()
    finally:
        back.join()


def _registered_week(server: LocalPostgres, exports: Path, instance: DagsterInstance | None = None) -> str:
    url = source_database(server, f"aiops_{uuid.uuid4().hex[:12]}")
    small_week(url)
    materialize_week(url, exports, instance=instance)
    return url


def _checks_alone(assets, checks, keys, given):
    """The checks alone, as the UI launches them: a subset of the assets' job."""
    definitions = Definitions(assets=assets, asset_checks=checks, resources=given)
    return definitions.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection=set(keys))


def _retried_and_passed(result, steps: set[str]) -> None:
    retried = {event.step_key for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"}
    assert retried == steps, retried
    assert result.success and all(check.passed for check in result.get_asset_check_evaluations())


def test_the_registry_checks_retry_through_a_server_restart(restartable, tmp_path):
    # The checks alone read the registration this instance recorded.
    instance = DagsterInstance.ephemeral()
    url = _registered_week(restartable, tmp_path, instance)
    registry_checks = [AssetCheckKey(AssetKey("export_registry"), name) for name in DATABASE_CHECKS]
    job = _checks_alone(LINEAGE_ASSETS, ASSET_CHECKS, registry_checks, resources(url, tmp_path))
    started = time.monotonic()
    result = _restarted_while(
        restartable,
        3,
        lambda: job.execute_in_process(partition_key=WEEK, instance=instance, raise_on_error=False),
    )
    _retried_and_passed(result, {f"export_registry_{name}" for name in DATABASE_CHECKS})
    assert time.monotonic() - started < 30


def test_the_corpus_check_retries_through_a_server_restart(restartable, tmp_path):
    url = _registered_week(restartable, tmp_path)
    build_corpus(url, tmp_path)
    check = AssetCheckKey(AssetKey("training_corpus"), "training_corpus_is_leak_free")
    job = _checks_alone(CORPUS_ASSETS, CORPUS_CHECKS, [check], resources(url, tmp_path))
    result = _restarted_while(
        restartable, 3, lambda: job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    )
    _retried_and_passed(result, {"training_corpus_training_corpus_is_leak_free"})


def test_only_the_database_asks_for_retries_no_step_carries_a_policy():
    # A RetryPolicy would retry any error; retries come from RetryRequested on a transient database
    # error alone, so everything else (a bad file, a full disk) fails once.
    from finetune_assets.dagster_defs.failures import retry_wait
    from finetune_assets.definitions import build_definitions

    definitions = build_definitions({})
    graph = definitions.resolve_asset_graph()
    job = definitions.resolve_job_def("weekly_finetune_export")
    assert all(node.retry_policy is None for node in job.graph.node_defs)
    corpus = definitions.resolve_job_def("training_corpus_job")
    assert all(node.retry_policy is None for node in corpus.graph.node_defs)
    assert graph.asset_check_keys  # the checks are in those jobs' graphs too
    assert [retry_wait(n) for n in range(3)] == [2, 4, 8]
