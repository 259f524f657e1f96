"""The documented CLI, run twice as a user (and the acceptance test) would, against PostgreSQL."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from dagster import DagsterInstance

from ..s3_server import read_like_a_trainer
from ..seed import LINEAGE_KEYS, WEEK, Week, at, audit_rows, export_files, read_lines, small_week

pytestmark = pytest.mark.e2e

STAGED_ASSETS = ("successful_evidence", "coordinator_decisions", "repair_actions", "training_pairs")
CORPUS_COMMAND = ["dagster", "asset", "materialize", "-m", "finetune_assets.definitions", "--select", "training_corpus"]
COMMAND = [
    "dagster",
    "asset",
    "materialize",
    "-m",
    "finetune_assets.definitions",
    "--select",
    "successful_evidence*",
    "--partition",
    WEEK,
]


def test_cli_materializes_the_week_twice_with_two_files_and_two_audit_rows(postgres_server, postgres_url, tmp_path):
    week = Week(postgres_url)
    week.incident("INC-1", {"alertname": "DiskPressure"})
    first = week.evidence("INC-1", "磁碟 93%", at(days=1))
    week.execution("INC-1", [{"action": "rotate_logs"}], at(days=1))
    second = week.evidence("INC-2", "cpu 97%", at(days=2))
    week.session("INC-2", {"decision": "scale out"}, at(days=2))
    week.save()

    home, exports = tmp_path / "dagster_home", tmp_path / "exports"
    home.mkdir()
    env = {
        **os.environ,
        "AIOPS_DATABASE_URL": postgres_url,
        "FINETUNE_EXPORT_PATH": str(exports),
        "DAGSTER_HOME": str(home),
    }
    outputs = [subprocess.run(COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True) for _ in range(2)]
    for output in outputs:
        assert output.returncode == 0, output.stderr[-3000:]

    files = export_files(exports)
    assert len(files) == 2 and files[0].read_bytes() == files[1].read_bytes()
    assert [line["metadata"]["evidence_id"] for line in read_lines(files[0])] == [first, second]
    rows = audit_rows(postgres_url)
    assert len(rows) == 2
    for row in rows:
        data = Path(row["file_path"]).read_bytes()
        assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
        assert row["size_bytes"] == len(data) and row["record_count"] == 2
        assert list(row["source_ids"]) == [first, second]

    # The weekly selection is the lineage, partitioned through and through: the corpus is not in it.
    instance = DagsterInstance.from_config(str(home))
    for record in instance.get_run_records():
        assert _materialized(instance, record.dagster_run.run_id) == set(LINEAGE_KEYS)
    assert not (exports / "corpus").exists()

    corpus = subprocess.run(CORPUS_COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert corpus.returncode == 0, corpus.stderr[-3000:]
    [folder] = (exports / "corpus").iterdir()
    corpus_lines = [line for shard in sorted(folder.glob("alpaca.*/*.jsonl")) for line in read_lines(shard)]
    assert sorted(line["metadata"]["evidence_id"] for line in corpus_lines) == sorted([first, second])
    assert f"corpus {folder.name}: 2 of 2 pairs from 1 week(s)" in corpus.stderr  # the latest export of the week only

    secret = postgres_server.password.encode()
    assert all(secret not in (o.stdout + o.stderr).encode() for o in [*outputs, corpus])
    for path in home.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), f"password found in {path}"


def _materialized(instance: DagsterInstance, run_id: str) -> set[str]:
    events = instance.all_logs(run_id)
    return {
        e.dagster_event.asset_key.to_user_string()
        for e in events
        if e.is_dagster_event and e.dagster_event.is_step_materialization
    }


def test_after_a_full_run_the_cli_materializes_each_asset_alone_from_what_upstream_persisted(postgres_url, tmp_path):
    ids = small_week(postgres_url)
    home, exports = tmp_path / "dagster_home", tmp_path / "exports"
    home.mkdir()
    env = {**os.environ, "AIOPS_DATABASE_URL": postgres_url, "FINETUNE_EXPORT_PATH": str(exports)}
    env["DAGSTER_HOME"] = str(home)

    def materialize(selection: str) -> subprocess.CompletedProcess:
        command = [*COMMAND[:6], selection, "--partition", WEEK]
        output = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert output.returncode == 0, output.stderr[-3000:]
        return output

    materialize("successful_evidence*")
    # The week changes in the database: the runs alone read only what the full run persisted.
    week = Week(postgres_url)
    week.evidence("INC-NEW", "a pair the full run never saw", at(days=3))
    week.execution("INC-NEW", ["rotate_logs"], at(days=3))
    week.save()
    for selection in ("training_pairs", "jsonl_export", "export_registry"):
        materialize(selection)
    rows = audit_rows(postgres_url)
    assert len(rows) == 2 and len(export_files(exports)) == 2
    assert list(rows[1]["source_ids"]) == ids  # the persisted week, not the database's newer one
    with DagsterInstance.from_config(str(home)) as instance:
        runs = list(reversed(instance.get_runs()))
        assert len(runs) == 4
        for run, asset in zip(runs[1:], ("training_pairs", "jsonl_export", "export_registry"), strict=True):
            assert _materialized(instance, run.run_id) == {asset}


def test_the_documented_cli_runs_the_multiprocess_executor_against_the_bucket(
    s3_server, s3_bucket, postgres_url, tmp_path, monkeypatch
):
    ids = small_week(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        **s3_server.environment(),
        "AIOPS_DATABASE_URL": postgres_url,
        "FINETUNE_EXPORT_PATH": f"s3://{s3_bucket}/exports",
        "FINETUNE_STAGING_PATH": f"s3://{s3_bucket}/staging",
        "FINETUNE_EXECUTOR": "multiprocess",
        "DAGSTER_HOME": str(home),
    }
    output = subprocess.run(COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert output.returncode == 0, output.stderr[-3000:]

    [row] = audit_rows(postgres_url)
    assert row["file_path"].startswith(f"s3://{s3_bucket}/exports/{WEEK}/")
    assert read_like_a_trainer(s3_server, row["file_path"]).num_rows == len(ids)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        step_pids = {
            entry.dagster_event.pid
            for entry in instance.all_logs(run.run_id)
            if entry.dagster_event and entry.dagster_event.event_type_value == "STEP_START"
        }
    assert len(step_pids) >= 6  # every step in a process of its own, sharing data only through the bucket
    keys = s3_server.keys(s3_bucket)
    assert any(key.startswith(f"staging/exports/{WEEK}/") for key in keys)
    staged = {key for key in keys if key.endswith(".parquet")}
    assert staged == {f"staging/assets/{asset}/{WEEK}/{run.run_id}.parquet" for asset in STAGED_ASSETS}
    assert s3_server.secret_access_key not in output.stdout + output.stderr


def test_two_runs_of_one_week_at_once_each_register_their_own_data_under_their_own_policy(postgres_url, tmp_path):
    week = Week(postgres_url)
    for n in range(4_000):  # enough for the two runs' steps to overlap
        incident = week.incident(f"INC-{n:05d}", {"alertname": f"Alert{n % 40}"})
        week.evidence(incident, f"node 10.0.{n % 250}.{n % 200} disk full, case {n}", at(days=1, seconds=n))
        week.execution(incident, [{"action": "rotate_logs"}], at(days=1, seconds=n))
    week.save()
    base = {
        **os.environ,
        "AIOPS_DATABASE_URL": postgres_url,
        "FINETUNE_EXPORT_PATH": str(tmp_path / "exports"),
        "FINETUNE_STAGING_PATH": str(tmp_path / "staging"),
    }
    base.pop("DAGSTER_HOME", None)
    masked = subprocess.Popen(
        COMMAND,
        env={**base, "FINETUNE_MASK_NETWORK": "true"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    plain = subprocess.Popen(
        COMMAND, env=base, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    outputs = {"masked": masked.communicate(timeout=300)[0], "plain": plain.communicate(timeout=300)[0]}
    assert masked.returncode == 0 and plain.returncode == 0, outputs

    snapshots = audit_rows(postgres_url)
    assert len(snapshots) == 2 and len({row["metadata"]["export_run_id"] for row in snapshots}) == 2
    kinds = []
    for row in snapshots:
        data = Path(row["file_path"]).read_text(encoding="utf-8")
        kinds.append("masked" if "10.0." not in data else "plain")
        assert data.count("\n") == 4_000
        if kinds[-1] == "masked":
            assert data.count("[REDACTED:ip_address]") == 4_000  # every line, none from the other run
        # the run's trainer files are its own export's
        stem = Path(row["file_path"]).stem
        own = [
            other
            for other in audit_rows(postgres_url, export_type=None)
            if other["metadata"]["export_run_id"] == row["metadata"]["export_run_id"]
        ]
        assert all(stem in r["file_path"] for r in own) and len(own) >= 2
        assert row["metadata"]["run_id"] in outputs[kinds[-1]]
    assert sorted(kinds) == ["masked", "plain"]
    # Each run staged its own intermediates, under its own run id, and read only those.
    run_ids = {row["metadata"]["run_id"] for row in snapshots}
    for asset in STAGED_ASSETS:
        assert {path.stem for path in (tmp_path / "staging" / "assets" / asset / WEEK).iterdir()} == run_ids
