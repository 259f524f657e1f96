"""The Kubernetes deployment, on paper: every setting in deploy/kubernetes is one that Dagster 1.13 and
dagster-k8s accept, and the Helm values render the same instance as the instance file."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_k8s import K8sRunLauncher
from dagster_postgres import DagsterPostgresStorage

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy" / "kubernetes"
PRODUCTION = REPOSITORY / "deploy" / "production"
PG_ENV = {
    "DAGSTER_PG_HOST": "db",
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "x",
    "DAGSTER_PG_DB": "dagster",
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_keys(value):
    """The chart writes instance settings in camelCase; the instance reads them in snake_case."""
    if isinstance(value, dict):
        return {snake(key): snake_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value


@pytest.fixture
def instance_file(monkeypatch) -> dict:
    for name, value in PG_ENV.items():
        monkeypatch.setenv(name, value)
    config, _ = dagster_instance_config(str(DEPLOY))  # raises on any setting the instance does not know
    return config


def test_the_production_instance_is_valid_and_repeats_the_repository_instance(monkeypatch):
    for name, value in {**PG_ENV, "DAGSTER_PG_PORT": "5432"}.items():
        monkeypatch.setenv(name, value)
    production, _ = dagster_instance_config(str(PRODUCTION))
    _accepted(DagsterPostgresStorage.config_type(), production["storage"]["postgres"])
    assert production["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    everywhere = yaml.safe_load((REPOSITORY / "dagster.yaml").read_text())
    assert {key: production[key] for key in everywhere} == everywhere
    assert set(production) - set(everywhere) == {"storage"}


def test_the_repository_instance_needs_no_environment(monkeypatch):
    for name in [*PG_ENV, "DAGSTER_PG_PORT"]:
        monkeypatch.delenv(name, raising=False)
    config, _ = dagster_instance_config(str(REPOSITORY))  # raises on a setting Dagster does not know
    assert "storage" not in config and config["telemetry"] == {"enabled": False}
    _accepted(QueuedRunCoordinator.config_type(), config["run_coordinator"]["config"])
    [per_week] = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert per_week == {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


def _accepted(config_type, config: dict) -> None:
    result = process_config(config_type, config)
    assert result.success, [error.message for error in result.errors]


def test_every_instance_setting_is_accepted(instance_file):
    _accepted(K8sRunLauncher.config_type(), instance_file["run_launcher"]["config"])
    _accepted(QueuedRunCoordinator.config_type(), instance_file["run_coordinator"]["config"])
    _accepted(DagsterPostgresStorage.config_type(), instance_file["storage"]["postgres"])
    assert instance_file["run_launcher"]["module"] == "dagster_k8s"


def test_a_wrong_setting_would_be_caught():
    with pytest.raises(AssertionError):
        _accepted(K8sRunLauncher.config_type(), {"instance_config_map": "x", "job_namespaces": "typo"})


def test_the_helm_values_render_the_same_launcher_and_queue(instance_file):
    values = yaml.safe_load((DEPLOY / "values.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = snake_keys(values["runLauncher"]["config"]["k8sRunLauncher"])
    # The chart takes config maps and secrets as {name: …}, the instance as plain names.
    for key in ("env_config_maps", "env_secrets"):
        launcher[key] = [item["name"] for item in launcher[key]]
    expected = instance_file["run_launcher"]["config"]
    assert {key: expected[key] for key in launcher} == launcher
    _accepted(K8sRunLauncher.config_type(), {**launcher, "instance_config_map": "dagster-instance"})

    daemon = values["dagsterDaemon"]
    queue = snake_keys(daemon["runCoordinator"]["config"]["queuedRunCoordinator"])
    assert queue == instance_file["run_coordinator"]["config"]
    assert snake_keys({k: v for k, v in daemon["runMonitoring"].items()}) == instance_file["run_monitoring"]
    assert snake_keys(daemon["runRetries"]) == instance_file["run_retries"]
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "finetune_assets.definitions"]


def test_the_code_location_can_run_each_step_in_a_kubernetes_job(tmp_path):
    example = dict(
        line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines() if line and line[0] != "#"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FINETUNE_EXECUTOR": "k8s", **example}
    code = (
        "import finetune_assets.definitions as location; "
        "print(location.defs().resolve_job_def('weekly_finetune_export').executor_def.name)"
    )
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "k8s"


def test_kubernetes_steps_without_a_shared_staging_store_do_not_load(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FINETUNE_EXECUTOR": "k8s"}
    code = "import finetune_assets.definitions as location; location.defs()"
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert output.returncode != 0
    assert "FINETUNE_EXECUTOR=k8s runs every step in a pod of its own: FINETUNE_STAGING_PATH must be" in output.stderr
