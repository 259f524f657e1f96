"""The ways in, as the README writes them, on a fresh clone in a shell with no DAGSTER_*, AIOPS_* or
FINETUNE_* variables: the demo command, the CLI line without DAGSTER_HOME, and `dagster dev` serving
the code location while a backfill launched through its GraphQL API (what the UI sends) completes."""

import os
import re
import shlex
import signal
import subprocess

import pytest

from finetune_assets.core.weeks import latest_due_week
from finetune_assets.devtools.local_postgres import free_port
from finetune_assets.devtools.stack import default_signals, wait_for_webserver

from ..newcomer import clean_environment, fresh_clone, git_status, launch_backfill, readme_command, wait_for_backfill
from ..seed import LINEAGE_KEYS, export_files, read_lines

pytestmark = pytest.mark.e2e

# Dagster's own CLI announces, before any project code loads, that `dg launch` supersedes it.
DAGSTER_CLI_NOTICE = re.compile(r".*SupersessionWarning: Function `asset_materialize_command` is superseded.*\n.*\n")


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return fresh_clone(tmp_path_factory.mktemp("newcomer") / "finetune_assets")


def _run(command: list[str], clone, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=clone, env=clean_environment(clone), capture_output=True, text=True, timeout=timeout
    )


def _assert_quiet(output: str) -> None:
    assert "Warning" not in output and "DEBUG" not in output, output[-3000:]


def test_the_demo_command_prints_what_a_user_needs_and_nothing_else(clone):
    command = readme_command("pip install -e . && finetune-demo").split("&&")[-1].strip()
    done = _run(shlex.split(command), clone)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    _assert_quiet(done.stdout + done.stderr)
    assert done.stderr == ""
    week = latest_due_week()
    [export] = export_files(clone / ".finetune_demo" / "exports", week)
    pairs = len(read_lines(export))
    expected = [
        r"built the demo AIOps database \.finetune_demo/aiops_demo\.sqlite",
        rf"week {week}: {pairs} training pairs written to {re.escape(str(export))} \(\d+ evidence skipped without "
        r"output, \d+ duplicates, \d+ secrets redacted\)",
        rf"train/validation files, dataset card and dataset_info\.json: {re.escape(str(export.with_suffix('')))}/",
        "checks passed: records_are_well_formed, no_secrets_survive, no_duplicates, loads_with_pyarrow, "
        "token_lengths, audit_rows_match_files, week_is_usual, freshness_check",
        r"registered in finetune_exports: [2-9] audit rows",
    ]
    lines = done.stdout.splitlines()
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)
    assert git_status(clone) == ""


def test_the_readme_cli_line_works_without_dagster_home(clone):
    command = readme_command("dagster asset materialize -m finetune_assets.definitions --select 'successful_evidence*'")
    week = command.split("--partition")[1].split()[0]
    done = _run(shlex.split(command), clone)
    assert done.returncode == 0, done.stderr[-3000:]
    output = DAGSTER_CLI_NOTICE.sub("", done.stdout + done.stderr)
    _assert_quiet(output)
    [export] = export_files(clone / ".finetune_demo" / "exports", week)
    pairs = len(read_lines(export))
    assert pairs > 10
    # What a user needs, one line each: the pairs and the file, the checks, the audit rows.
    assert f"week {week}: wrote {pairs} pairs" in output and str(export) in output
    assert f"week {week}: checks passed: records_are_well_formed, no_secrets_survive" in output
    assert f"week {week}: registered 2 audit row(s) in finetune_exports" in output
    assert (
        "WARNING - __ASSET_JOB" in output
        and "AIOPS_DATABASE_URL is unset: reading the embedded demo database" in output
    )
    assert len(output.strip().splitlines()) <= 8, output
    assert not list(clone.glob(".tmp_dagster_home_*"))  # the CLI removed its temporary instance
    assert git_status(clone) == ""

    # The README's corpus line, after it: the weeks exported so far, in a corpus version.
    corpus = readme_command("dagster asset materialize -m finetune_assets.definitions --select training_corpus")
    built = _run(shlex.split(corpus), clone)
    assert built.returncode == 0, built.stderr[-3000:]
    [folder] = (clone / ".finetune_demo" / "exports" / "corpus").iterdir()
    assert re.search(rf"pairs from \d week\(s\) written to {re.escape(str(folder))}", built.stdout + built.stderr)
    assert (folder / "README.md").exists() and list(folder.glob("alpaca.train/*.jsonl"))
    assert git_status(clone) == ""


def test_dagster_dev_serves_the_code_location_and_a_backfill_completes(clone):
    command = readme_command("dagster dev")
    assert command == "dagster dev -w workspace.yaml"
    port = free_port()
    log = open(clone.parent / "dagster_dev.log", "wb")
    process = subprocess.Popen(
        [*shlex.split(command), "-p", str(port)],
        cwd=clone,
        env=clean_environment(clone),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    try:
        wait_for_webserver(port)
        week = latest_due_week()
        before = set(export_files(clone / ".finetune_demo" / "exports", week))
        backfill = launch_backfill(port, [week], LINEAGE_KEYS, "a newcomer's first backfill")
        assert wait_for_backfill(port, backfill) == "COMPLETED_SUCCESS", (clone.parent / "dagster_dev.log").read_text()
        [export] = set(export_files(clone / ".finetune_demo" / "exports", week)) - before
        assert len(read_lines(export)) > 10
    finally:
        # Ctrl-C, as a user stops it: dagster dev stops its webserver, daemon and code server and removes
        # its temporary instance folder.
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    assert process.returncode is not None and not list(clone.glob(".tmp_dagster_home_*"))
    assert git_status(clone) == ""
