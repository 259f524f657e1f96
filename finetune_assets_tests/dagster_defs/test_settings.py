"""The code location's settings, checked when it loads: each wrong one named with its variable, its
value (unless a secret) and what is accepted, all of them at once, before any work."""

import pytest
from dagster import DagsterInstance, EnvVar, materialize
from pydantic import ValidationError

from finetune_assets.dagster_defs.partitions import START_DATE
from finetune_assets.dagster_defs.resources import AiopsDatabase, CorpusPolicy, DatasetPolicy
from finetune_assets.dagster_defs.settings import ConfigurationError, Settings
from finetune_assets.dagster_defs.staged_io import STAGED_IO, StagedParquetIOManager
from finetune_assets.definitions import build_definitions

from ..seed import (
    ASSET_CHECKS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    local_storage,
    materialization_metadata,
    materialize_week,
)

# variable, value, what the message must say
WRONG = [
    (
        "FINETUNE_VALIDATION_FRACTION",
        "abc",
        "FINETUNE_VALIDATION_FRACTION='abc' is not valid: accepted: a number from 0 to 1",
    ),
    (
        "FINETUNE_VALIDATION_FRACTION",
        "1.5",
        "FINETUNE_VALIDATION_FRACTION='1.5' is not valid: accepted: a number from 0 to 1",
    ),
    (
        "FINETUNE_QUARANTINE_LIMIT",
        "5%",
        "FINETUNE_QUARANTINE_LIMIT='5%' is not valid: accepted: a number from 0 to 1",
    ),
    ("FINETUNE_QUARANTINE_LIMIT", "2", "FINETUNE_QUARANTINE_LIMIT='2' is not valid"),
    ("FINETUNE_TOKEN_LIMIT", "lots", "FINETUNE_TOKEN_LIMIT='lots' is not valid: accepted: a whole number above 0"),
    ("FINETUNE_TOKEN_LIMIT", "0", "FINETUNE_TOKEN_LIMIT='0' is not valid"),
    (
        "FINETUNE_FORMATS",
        "bogus",
        "FINETUNE_FORMATS: unknown format(s) ['bogus']: choose from alpaca, openai_chat, sharegpt",
    ),
    ("FINETUNE_FORMATS", " , ", "FINETUNE_FORMATS: name at least one of alpaca, openai_chat, sharegpt"),
    (
        "FINETUNE_SPLIT_KEY",
        "severity",
        "FINETUNE_SPLIT_KEY: 'severity' is not one of alertname, incident_id, matched_playbook",
    ),
    ("FINETUNE_MASK_NETWORK", "on", "FINETUNE_MASK_NETWORK='on' is not valid: accepted: true, 1, yes or false, 0, no"),
    ("AIOPS_P3_FINETUNE_EXPORT", "enabled", "AIOPS_P3_FINETUNE_EXPORT='enabled' is not valid"),
    (
        "FINETUNE_REDACTION_PATTERNS",
        '{"x": "q*"}',
        "FINETUNE_REDACTION_PATTERNS: redaction pattern for 'x' can match the empty string",
    ),
    (
        "FINETUNE_REDACTION_PATTERNS",
        '{"x": "TCK-(\\\\d+"}',
        "FINETUNE_REDACTION_PATTERNS: redaction pattern for 'x' is not a valid RE2",
    ),
    (
        "FINETUNE_REDACTION_PATTERNS",
        "[1, 2]",
        "FINETUNE_REDACTION_PATTERNS='[1, 2]' is not valid: accepted: a JSON object",
    ),
    (
        "FINETUNE_PARTITIONS_START_DATE",
        "2026-01-06",
        "FINETUNE_PARTITIONS_START_DATE='2026-01-06' is not valid: the first week is declared in code (START_DATE in "
        "finetune_assets/dagster_defs/partitions.py, 2026-01-05)",
    ),
    ("FINETUNE_EXECUTOR", "celery", "FINETUNE_EXECUTOR='celery' is not valid: accepted: in_process, multiprocess, k8s"),
    (
        "FINETUNE_DB_LOCK_TIMEOUT",
        "-1",
        "FINETUNE_DB_LOCK_TIMEOUT='-1' is not valid: accepted: a number of seconds from 0.001 to 86400",
    ),
    # 0.0001 s is 0 ms to PostgreSQL, which switches the timeout off.
    ("FINETUNE_DB_LOCK_TIMEOUT", "0.0001", "FINETUNE_DB_LOCK_TIMEOUT='0.0001' is not valid: accepted: a number of"),
    ("FINETUNE_DB_STATEMENT_TIMEOUT", "inf", "FINETUNE_DB_STATEMENT_TIMEOUT='inf' is not valid"),
    ("FINETUNE_DB_STATEMENT_TIMEOUT", "nan", "FINETUNE_DB_STATEMENT_TIMEOUT='nan' is not valid"),
    ("FINETUNE_DB_STATEMENT_TIMEOUT", "1e12", "FINETUNE_DB_STATEMENT_TIMEOUT='1e12' is not valid"),
    ("FINETUNE_DB_CONNECT_TIMEOUT", "inf", "FINETUNE_DB_CONNECT_TIMEOUT='inf' is not valid"),
    ("FINETUNE_DB_CONNECT_TIMEOUT", "86401", "FINETUNE_DB_CONNECT_TIMEOUT='86401' is not valid"),
    ("FINETUNE_TOKEN_LIMIT", "\u0663", "FINETUNE_TOKEN_LIMIT='\u0663' is not valid: accepted: a whole number"),
    ("FINETUNE_TOKEN_LIMIT", "1_000", "FINETUNE_TOKEN_LIMIT='1_000' is not valid"),
    ("FINETUNE_VALIDATION_FRACTION", "\uff10.1", "FINETUNE_VALIDATION_FRACTION='\uff10.1' is not valid"),
    ("FINETUNE_PARTITIONS_START_DATE", "0001-01-01", "FINETUNE_PARTITIONS_START_DATE='0001-01-01' is not valid"),
    ("FINETUNE_PARTITIONS_START_DATE", "9999-12-27", "FINETUNE_PARTITIONS_START_DATE='9999-12-27' is not valid"),
    ("FINETUNE_PARTITIONS_START_DATE", "20260105", "FINETUNE_PARTITIONS_START_DATE='20260105' is not valid"),
    ("FINETUNE_PARTITIONS_START_DATE", "2026-W02-1", "FINETUNE_PARTITIONS_START_DATE='2026-W02-1' is not valid"),
    ("FINETUNE_DB_STATEMENT_TIMEOUT", "soon", "FINETUNE_DB_STATEMENT_TIMEOUT='soon' is not valid"),
    ("FINETUNE_EXPORT_PATH", "", "FINETUNE_EXPORT_PATH is set but empty"),
    ("FINETUNE_CORPUS_WEEKS", "0", "FINETUNE_CORPUS_WEEKS='0' is not valid: accepted: a whole number above 0"),
    (
        "FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD",
        "85",
        "FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD='85' is not valid: accepted: a number above 0 and at most 1",
    ),
    ("FINETUNE_CORPUS_CLUSTER_KEEP", "-1", "FINETUNE_CORPUS_CLUSTER_KEEP='-1' is not valid: accepted: a whole number"),
    ("FINETUNE_WEEK_HEALTH_FACTOR", "1", "FINETUNE_WEEK_HEALTH_FACTOR='1' is not valid: accepted: a number above 1"),
    ("FINETUNE_STAGING_RETENTION", "-1", "FINETUNE_STAGING_RETENTION='-1' is not valid: accepted: a number of days"),
    ("FINETUNE_STAGING_RETENTION", "7d", "FINETUNE_STAGING_RETENTION='7d' is not valid: accepted: a number of days"),
    ("AIOPS_DATABASE_URL", "", "AIOPS_DATABASE_URL is set but empty"),
    ("AIOPS_DATABASE_URL", "postgresql+psycopg://a:b@c@d/e", "AIOPS_DATABASE_URL has an '@' in its user or password"),
]


@pytest.mark.parametrize("variable, value, message", WRONG, ids=[f"{v}={x!r}" for v, x, _ in WRONG])
def test_each_wrong_setting_stops_the_load_naming_it(variable, value, message):
    with pytest.raises(ConfigurationError) as error:
        build_definitions({variable: value})
    assert message in str(error.value)


def test_every_wrong_setting_is_reported_at_once_and_secrets_are_not_repeated():
    environ = {
        "FINETUNE_VALIDATION_FRACTION": "abc",
        "FINETUNE_FORMATS": "bogus",
        "AIOPS_DATABASE_URL": "postgresql+psycopg://aiops:Hunter2@x@db/aiops",
        "AWS_ACCESS_KEY_ID": "AKIAZ7Q3EXAMPLE4KEY1",
    }
    with pytest.raises(ConfigurationError) as error:
        build_definitions(environ)
    message = str(error.value)
    assert message.startswith("4 setting(s) of the finetune_assets code location are wrong:")
    assert "Hunter2" not in message and "AKIAZ7Q3EXAMPLE4KEY1" not in message
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together" in message


def test_staging_inside_the_export_tree_is_refused(tmp_path):
    environ = {
        "FINETUNE_EXPORT_PATH": str(tmp_path / "exports"),
        "FINETUNE_STAGING_PATH": str(tmp_path / "exports" / "s"),
    }
    with pytest.raises(ConfigurationError, match="FINETUNE_STAGING_PATH=.* is inside FINETUNE_EXPORT_PATH"):
        build_definitions(environ)
    bucket = {"FINETUNE_EXPORT_PATH": "s3://data/finetune", "FINETUNE_STAGING_PATH": "s3://data/finetune/_staging"}
    with pytest.raises(ConfigurationError, match="the tree trainers read"):
        build_definitions(bucket)
    apart = Settings.from_environment({**bucket, "FINETUNE_STAGING_PATH": "s3://data/staging"}).resources()
    assert apart["export_storage"].staging_path == "s3://data/staging"


@pytest.mark.parametrize(
    "exports, staging",
    [
        ("{tmp}/x/exports", "file://{tmp}/x/exports/staging"),
        ("{tmp}/x/exports", "local://{tmp}/x/exports/staging"),
        ("file://{tmp}/x/exports", "{tmp}/x/exports/staging"),
        ("{tmp}/x/exports", "{tmp}/x/./exports//staging"),
        ("s3://b/p", "s3a://b/p/stg"),
        ("s3://b/p", "s3://b//p/stg"),
        ("s3a://b/p/", "S3://b/p/stg"),
    ],
)
def test_staging_written_as_another_url_of_the_export_tree_is_refused(tmp_path, exports, staging):
    environ = {
        "FINETUNE_EXPORT_PATH": exports.format(tmp=tmp_path),
        "FINETUNE_STAGING_PATH": staging.format(tmp=tmp_path),
    }
    with pytest.raises(ConfigurationError, match="FINETUNE_STAGING_PATH=.* is inside FINETUNE_EXPORT_PATH"):
        build_definitions(environ)


def test_a_start_date_equal_to_the_declared_one_still_loads():
    # A deployment that set the variable to the first week the code declares keeps loading; any other
    # value is refused above, since the partitions cannot follow it.
    weeks = build_definitions({"FINETUNE_PARTITIONS_START_DATE": " 2026-01-05 "}).resolve_job_def(
        "weekly_finetune_export"
    )
    assert weeks.partitions_def.get_first_partition_key() == START_DATE == "2026-01-05"


def test_each_stripped_setting_is_read_as_its_value():
    environ = {"FINETUNE_EXECUTOR": " multiprocess\n", "FINETUNE_DB_LOCK_TIMEOUT": " 0.001 "}
    settings = Settings.from_environment(environ)
    assert settings.executor == "multiprocess" and settings.resources()["aiops_db"].lock_timeout == 0.001


def test_good_settings_reach_the_resources():
    settings = Settings.from_environment(
        {
            "FINETUNE_MASK_NETWORK": "Yes",
            "FINETUNE_DB_LOCK_TIMEOUT": "5",
            "FINETUNE_VALIDATION_FRACTION": "0.25",
            "FINETUNE_QUARANTINE_LIMIT": "0.05",
        }
    )
    resources = settings.resources()
    assert resources["dataset_policy"].quarantine_limit == 0.05
    assert resources["dataset_policy"].mask_network is True
    assert resources["dataset_policy"].validation_fraction == 0.25
    assert resources["aiops_db"].lock_timeout == 5 and resources["aiops_db"].url is None


def test_the_staging_retention_reaches_the_io_manager_which_shares_the_storage():
    staged = Settings.from_environment({"FINETUNE_STAGING_RETENTION": "0.5"}).resources()[STAGED_IO]
    assert staged.retention_days == 0.5
    default = Settings.from_environment({"FINETUNE_STAGING_PATH": "/srv/staging"}).resources()
    assert default[STAGED_IO].retention_days == 7
    assert default[STAGED_IO].export_storage is default["export_storage"]


def test_the_corpus_policy_comes_from_the_environment():
    environ = {
        "FINETUNE_CORPUS_WEEKS": "12",
        "FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD": "0.9",
        "FINETUNE_CORPUS_CLUSTER_KEEP": "0",
        "FINETUNE_WEEK_HEALTH_FACTOR": "3",
    }
    policy = Settings.from_environment(environ).resources()["corpus_policy"]
    assert (policy.weeks, policy.near_duplicate_threshold, policy.cluster_keep, policy.health_factor) == (12, 0.9, 0, 3)
    assert Settings.from_environment({}).resources()["corpus_policy"].weeks is None


def _demo_resources(tmp_path) -> dict:
    storage = local_storage(tmp_path / "exports")
    return {
        "aiops_db": AiopsDatabase(demo_path=str(tmp_path / "demo.sqlite")),
        "export_storage": storage,
        STAGED_IO: StagedParquetIOManager(export_storage=storage),
        "dataset_policy": DatasetPolicy(),
        "corpus_policy": CorpusPolicy(),
    }


def test_a_run_on_the_demo_database_says_so(tmp_path):
    instance = DagsterInstance.ephemeral()
    resources = _demo_resources(tmp_path)
    result = materialize([*LINEAGE_ASSETS, *ASSET_CHECKS], partition_key=WEEK, instance=instance, resources=resources)
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if "AIOPS_DATABASE_URL is unset" in entry.user_message
    ]
    assert len(warnings) == 1 and "embedded demo database" in warnings[0]
    assert materialization_metadata(result, "successful_evidence")["source"] == "demo"
    assert materialization_metadata(result, "export_registry")["source"] == "demo"
    [row] = audit_rows(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    assert row["metadata"]["source"] == "demo"


def test_a_real_database_is_named_without_its_password(postgres_server, postgres_url, tmp_path):
    week = Week(postgres_url)
    week.evidence("INC-1", "cpu 97%", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    result = materialize_week(postgres_url, tmp_path)
    source = materialization_metadata(result, "successful_evidence")["source"]
    assert source.startswith("postgresql+psycopg://postgres:***@127.0.0.1:") and postgres_server.password not in source
    assert audit_rows(postgres_url)[0]["metadata"]["source"] == source


def _resource_failure(result) -> str:
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "RESOURCE_INIT_FAILURE")
    return str(failure.event_specific_data.error)


@pytest.mark.parametrize(
    "resource, values, messages",
    [
        ("aiops_db", {"lock_timeout": 0.0001}, ["lock_timeout", "accepted: a number of seconds from 0.001"]),
        (
            "dataset_policy",
            {"validation_fraction": 1.5, "split_key": "severity", "formats": ["alpaca", "parquet"]},
            [
                "validation_fraction\n  accepted: a number from 0 to 1",
                "split_key\n  'severity' is not one of alertname, incident_id, matched_playbook",
                "formats\n  unknown format(s) ['parquet']",
            ],
        ),
        ("dataset_policy", {"extra_redaction_patterns": {"x": "q*"}}, ["'x' can match the empty string"]),
        ("corpus_policy", {"near_duplicate_threshold": 0.0}, ["accepted: a number above 0 and at most 1"]),
        ("staged_io", {"retention_days": -1.0}, ["retention_days\n  accepted: a number of days"]),
    ],
)
def test_a_value_set_in_the_launchpad_is_checked_by_the_same_rules_before_any_work(
    tmp_path, resource, values, messages
):
    """Run config reaches the resources without the environment: their field types check it alike."""
    result = materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS], partition_key=WEEK, instance=DagsterInstance.ephemeral(),
        resources=_demo_resources(tmp_path), raise_on_error=False,
        run_config={"resources": {resource: {"config": values}}},
    )  # fmt: skip
    error = _resource_failure(result)
    assert all(message in error for message in messages), error
    assert not (tmp_path / "demo.sqlite").exists() and not (tmp_path / "exports").exists()


def test_a_database_url_read_at_run_time_is_checked_then_without_repeating_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOPS_DATABASE_URL", "postgresql+psycopg://aiops:pw@db/aiops")
    definitions = build_definitions({"AIOPS_DATABASE_URL": "postgresql+psycopg://aiops:pw@db/aiops"})
    assert definitions.resources["aiops_db"].model_dump()["url"] == EnvVar("AIOPS_DATABASE_URL")
    monkeypatch.setenv("AIOPS_DATABASE_URL", "postgresql+psycopg://aiops:Hunter2@x@db/aiops")
    job = definitions.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(partition_key=WEEK, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    error = _resource_failure(result)
    assert "has an '@' in its user or password" in error and "Hunter2" not in error


def test_a_wrong_value_given_in_code_is_refused_where_it_is_written():
    with pytest.raises(ValidationError) as error:
        DatasetPolicy(formats=[], quarantine_limit=-0.1)
    message = str(error.value)
    assert "name at least one of alpaca" in message and "quarantine_limit\n  accepted: a number from 0 to 1" in message
    assert "-0.1" not in message  # values are never repeated: another field's may be a secret
