"""Smoke test: the code location loads with no secrets set and wires the lineage as documented."""

import os
import subprocess
import sys

from dagster import AssetKey

from finetune_assets.dagster_defs.settings import Settings
from finetune_assets.definitions import build_definitions

defs = build_definitions({})

LINEAGE = {
    "successful_evidence": {"incident_evidence", "incidents"},
    "coordinator_decisions": {"agent_sessions", "successful_evidence"},
    "repair_actions": {"auto_repair_executions", "successful_evidence"},
    "training_pairs": {"successful_evidence", "coordinator_decisions", "repair_actions"},
    "jsonl_export": {"training_pairs"},
    "export_registry": {"jsonl_export", "finetune_exports"},
}
# Off the registry table, outside the weekly selection `successful_evidence*`.
CORPUS = {"training_corpus": {"finetune_exports"}}


def test_every_asset_and_its_upstream():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == set(LINEAGE) | set(CORPUS) | {
        "incidents",
        "incident_evidence",
        "agent_sessions",
        "auto_repair_executions",
        "finetune_exports",
    }
    for asset, upstream in {**LINEAGE, **CORPUS}.items():
        assert {key.to_user_string() for key in graph.get(AssetKey(asset)).parent_keys} == upstream


def test_assets_are_described_grouped_kinded_and_share_the_weekly_partitions():
    graph = defs.resolve_asset_graph()
    for name in LINEAGE:
        node = graph.get(AssetKey(name))
        assert node.description and node.group_name in {"extract", "transform", "export"}
        assert node.kinds
        assert node.partitions_def.get_partition_keys()[0] == "2026-01-05"


def test_every_asset_has_owners_kinds_a_description_and_a_column_schema():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:ml-platform"], key
        assert node.kinds and node.description, key
        columns = [column.name for column in node.metadata["dagster/column_schema"].columns]
        assert columns, key
    evidence_columns = graph.get(AssetKey("incident_evidence")).metadata["dagster/column_schema"].columns
    assert [column.name for column in evidence_columns][:3] == ["id", "incident_id", "verification_result"]


def test_job_and_schedule():
    job = defs.resolve_job_def("weekly_finetune_export")
    assert job.partitions_def is not None
    assert defs.resolve_schedule_def("weekly_finetune_export_schedule").job_name == job.name


def test_the_module_loads_in_a_clean_environment_without_secrets(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    code = (
        "import finetune_assets.definitions as location; "
        "print(len(location.defs().resolve_asset_graph().get_all_asset_keys()))"
    )
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "12"


def test_checks_cover_the_export_and_the_registry_and_block_where_it_matters():
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert set(checks) == {
        ("jsonl_export", name)
        for name in (
            "records_are_well_formed",
            "no_secrets_survive",
            "no_duplicates",
            "loads_with_pyarrow",
            "token_lengths",
        )
    } | {
        ("export_registry", "audit_rows_match_files"),
        ("export_registry", "week_is_usual"),
        ("export_registry", "freshness_check"),
        ("training_corpus", "training_corpus_is_leak_free"),
    }
    blocking = {name for (asset, name), spec in checks.items() if spec.blocking}
    assert blocking == {"records_are_well_formed", "no_secrets_survive", "no_duplicates", "loads_with_pyarrow"}


def test_the_dataset_policy_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FINETUNE_FORMATS", "alpaca, openai_chat")
    monkeypatch.setenv("FINETUNE_SPLIT_KEY", "incident_id")
    monkeypatch.setenv("FINETUNE_VALIDATION_FRACTION", "0.25")
    monkeypatch.setenv("FINETUNE_TOKEN_LIMIT", "4096")
    monkeypatch.setenv("FINETUNE_MASK_NETWORK", "true")
    monkeypatch.setenv("FINETUNE_REDACTION_PATTERNS", '{"ticket": "TCK-\\\\d+"}')
    policy = Settings.from_environment(os.environ).resources()["dataset_policy"]
    assert policy.formats == ["alpaca", "openai_chat"]
    assert (policy.split_key, policy.validation_fraction, policy.token_limit) == ("incident_id", 0.25, 4096)
    assert policy.mask_network is True
    assert policy.redactor().redact("see TCK-12 on 10.0.0.1") == "see [REDACTED:ticket] on [REDACTED:ip_address]"
