"""The retry rule, on a real step: a failure a retry could fix is retried (three times, backing off);
one it could not (bad credentials) fails at once."""

from dagster import AssetSelection, DagsterInstance, materialize

from finetune_assets.devtools.local_postgres import free_port

from ..seed import LINEAGE_ASSETS, WEEK, resources


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
