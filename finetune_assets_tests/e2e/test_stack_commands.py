"""`stack up` / `stack down` as the README shows them: stopping keeps the data and the exports, starting
again finds them, and only `down --purge` deletes the stack's folder, after listing what is in it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_assets.devtools.local_postgres import free_port

from ..newcomer import (
    clean_environment,
    fresh_clone,
    git_status,
    graphql,
    launch_backfill,
    readme_command,
    wait_for_backfill,
)
from ..seed import LINEAGE_KEYS, export_files, read_lines

pytestmark = pytest.mark.e2e

WEEK = "2026-11-09"
RUNS = "{ runsOrError { ... on Runs { results { runId status jobName } } } }"


def _stack(clone: Path, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "finetune_assets.devtools.stack", *arguments],
        cwd=clone,
        env=clean_environment(clone),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text().lower()


def test_down_stops_every_process_and_keeps_the_data_and_the_exports(tmp_path):
    clone = fresh_clone(tmp_path / "finetune_assets")
    assert (
        readme_command("python -m finetune_assets.devtools.stack up")
        == "python -m finetune_assets.devtools.stack up --aiops-demo"
    )
    assert (
        readme_command("python -m finetune_assets.devtools.stack down")
        == "python -m finetune_assets.devtools.stack down"
    )
    port = str(free_port())
    state_file = clone / ".finetune_stack" / "state.json"

    _stack(clone, "up", "--aiops-demo", "--port", port)
    try:
        backfill = launch_backfill(int(port), [WEEK], LINEAGE_KEYS, "one week on the stack")
        assert wait_for_backfill(int(port), backfill) == "COMPLETED_SUCCESS"
    finally:
        state = json.loads(state_file.read_text())
        stopped = _stack(clone, "down")
    [export] = export_files(clone / ".finetune_demo" / "exports", WEEK)
    exported = export.read_bytes()
    assert "data stays in" in stopped.stdout
    assert not any(_alive(pid) for pid in [*state["pids"].values(), state["pg_pid"]])
    cluster = Path(state["pg_directory"])  # beside the stack, or where `postgres` can reach it (run as root)
    assert (cluster / "data" / "PG_VERSION").is_file()

    _stack(clone, "up", "--port", port)
    try:
        runs = graphql(int(port), RUNS, {})["runsOrError"]["results"]
        # The first start's weekly runs, kept. (The corpus sensor's run may still be queued, or be
        # running, when the stack goes down: it is the daemon's to finish after the restart.)
        weekly = [run for run in runs if run["jobName"] != "training_corpus_job"]
        assert weekly and {run["status"] for run in weekly} == {"SUCCESS"}
    finally:
        _stack(clone, "down")

    purged = _stack(clone, "down", "--purge")
    assert str(cluster) in purged.stdout and "audit rows" in purged.stdout
    assert not (clone / ".finetune_stack").exists() and not cluster.exists()
    assert export.read_bytes() == exported and len(read_lines(export)) > 10
    assert git_status(clone) == ""


def test_up_refuses_an_export_path_that_purge_would_delete(tmp_path):
    clone = fresh_clone(tmp_path / "finetune_assets")
    env = {**clean_environment(clone), "FINETUNE_EXPORT_PATH": ".finetune_stack/exports"}
    done = subprocess.run(
        [sys.executable, "-m", "finetune_assets.devtools.stack", "up", "--port", str(free_port())],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "FINETUNE_EXPORT_PATH=.finetune_stack/exports is inside the stack's folder" in done.stderr
    assert not (clone / ".finetune_stack").exists()
