"""Every run stages into a folder of its own: nothing a run staged is read by another run (but the
re-execution of a failed one), nothing holding source text stays after a successful run, and what runs
that are over left behind is swept by the next run of the week."""

import os
import stat
import time

import pytest
from dagster import AssetSelection, DagsterInstance, ReexecutionOptions, execute_job, materialize, reconstructable

from finetune_assets.definitions import build_definitions

from ..seed import (
    ASSET_CHECKS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    materialization_metadata,
    materialize_week,
    resources,
    staging_of,
)


def _week(url: str) -> None:
    week = Week(url)
    for n in range(5):
        week.evidence(f"INC-{n}", f"disk {n} full", at(days=1, hours=n))
        week.execution(f"INC-{n}", ["rotate_logs"], at(days=1, hours=n))
    week.save()


def _run_folders(export_path) -> list:
    return sorted((staging_of(export_path) / "runs" / WEEK).glob("*")) if staging_of(export_path).exists() else []


def test_a_successful_run_leaves_no_staged_file_and_keeps_the_exports_record(database_url, tmp_path):
    _week(database_url)
    materialize_week(database_url, tmp_path)
    assert _run_folders(tmp_path) == []
    [record] = list((staging_of(tmp_path) / "exports" / WEEK).iterdir())
    assert sorted(path.name for path in record.iterdir()) == ["checks.json", "manifest.json"]  # ids now in the row
    assert record.name == export_files(tmp_path)[0].stem
    assert stat.S_IMODE(record.stat().st_mode) == 0o700


def test_a_step_alone_says_it_needs_what_its_own_run_stages(database_url, tmp_path):
    _week(database_url)
    extracts = AssetSelection.assets("successful_evidence", "coordinator_decisions", "repair_actions")
    instance = DagsterInstance.ephemeral()
    materialize(
        LINEAGE_ASSETS,
        selection=extracts,
        partition_key=WEEK,
        resources=resources(database_url, tmp_path),
        instance=instance,
    )
    assert _run_folders(tmp_path) == []  # nothing in that run read them, so they went
    result = materialize(
        LINEAGE_ASSETS,
        selection=AssetSelection.assets("training_pairs"),
        partition_key=WEEK,
        resources=resources(database_url, tmp_path),
        instance=instance,
        raise_on_error=False,
    )
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "successful_evidence for week 2026-11-09 was not staged by this run" in message
    assert "select successful_evidence* for the whole lineage" in message


def weekly_job():
    """The weekly job as the code location builds it from the environment (reconstructable for the
    multiprocess executor and for re-execution)."""
    return build_definitions().resolve_job_def("weekly_finetune_export")


def test_a_failed_run_keeps_its_files_for_reexecution_from_failure_which_uses_then_removes_them(
    postgres_url, tmp_path, monkeypatch
):
    _week(postgres_url)
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the export folder should be")
    staging = tmp_path / "staging"
    for name, value in {
        "AIOPS_DATABASE_URL": postgres_url,
        "FINETUNE_EXPORT_PATH": str(blocker / "exports"),
        "FINETUNE_STAGING_PATH": str(staging),
    }.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "dagster_home").mkdir()
    with DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        failed = execute_job(
            reconstructable(weekly_job), instance, tags={"dagster/partition": WEEK}, raise_on_error=False
        )
        assert not failed.success
        [folder] = list((staging / "runs" / WEEK).iterdir())
        assert folder.name == failed.run_id
        # The extracts were consumed by training_pairs; its own output waits for jsonl_export.
        assert [path.name for path in folder.iterdir()] == ["training_pairs.parquet"]
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "training_pairs.parquet").stat().st_mode) == 0o600

        blocker.unlink()
        blocker.mkdir()
        resumed = execute_job(
            reconstructable(weekly_job),
            instance,
            raise_on_error=False,
            tags={"dagster/partition": WEEK},
            reexecution_options=ReexecutionOptions.from_failure(failed.run_id, instance),
        )
        assert resumed.success
        steps = {event.step_key for event in resumed.all_events if event.event_type_value == "STEP_SUCCESS"}
        assert "successful_evidence" not in steps and "jsonl_export" in steps  # it read the first run's pairs
    assert not list((staging / "runs" / WEEK).iterdir())
    assert len(export_files(blocker / "exports")) == 1 and len(audit_rows(postgres_url)) == 1


def test_the_next_run_of_the_week_sweeps_leftovers_of_runs_that_are_over_and_of_dead_writers(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    blocked = tmp_path / "exports"
    blocked.write_text("not a folder yet")
    failed = materialize_week(database_url, blocked, instance=instance, raise_on_error=False)
    assert not failed.success and [path.name for path in _run_folders(blocked)] == [failed.run_id]
    blocked.unlink()
    # A run another instance knows of, quiet for hours (swept), and one busy right now (kept).
    quiet, busy = (
        staging_of(blocked) / "runs" / WEEK / "unknown-quiet",
        staging_of(blocked) / "runs" / WEEK / "unknown-busy",
    )
    for folder in (quiet, busy):
        folder.mkdir(parents=True)
        (folder / "successful_evidence.parquet").write_bytes(b"x")
    hours_ago = time.time() - 3 * 3600
    os.utime(quiet / "successful_evidence.parquet", (hours_ago, hours_ago))
    os.utime(quiet, (hours_ago, hours_ago))
    # Temporary files of writers: one dead for an hour, one writing now.
    week_folder = blocked / WEEK
    week_folder.mkdir(parents=True)
    dead, live = week_folder / ".finetune-x.jsonl.1-dead.partial", week_folder / ".finetune-y.jsonl.2-live.partial"
    dead.write_bytes(b"half")
    live.write_bytes(b"half")
    os.utime(dead, (time.time() - 3600, time.time() - 3600))

    result = materialize_week(database_url, blocked, instance=instance)
    assert [path.name for path in _run_folders(blocked)] == ["unknown-busy"]
    assert not dead.exists() and live.exists()
    notes = [entry.user_message for entry in instance.all_logs(result.run_id) if "left behind" in entry.user_message]
    assert len(notes) == 1 and failed.run_id in notes[0] and "unknown-quiet" in notes[0]


@pytest.mark.parametrize("policy", ["mask", "plain"])
def test_checks_and_registry_read_their_own_runs_export_not_the_newest(database_url, tmp_path, policy):
    from finetune_assets.dagster_defs.resources import DatasetPolicy

    week = Week(database_url)
    week.evidence("INC-1", "node 10.0.3.7 disk full", at(days=1))
    week.execution("INC-1", ["rotate_logs"], at(days=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    mine = materialize_week(
        database_url, tmp_path, instance=instance, policy=DatasetPolicy(mask_network=policy == "mask")
    )
    # A later export of the same week, with the other policy, only written (no checks, no registry).
    other = DatasetPolicy(mask_network=policy != "mask")
    upto_export = AssetSelection.assets(*[a.key for a in LINEAGE_ASSETS if a.key.path[0] != "export_registry"])
    materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS],
        selection=upto_export - AssetSelection.checks_for_assets("jsonl_export"),
        partition_key=WEEK,
        resources=resources(database_url, tmp_path, other),
        instance=instance,
    )
    [row] = audit_rows(database_url)
    assert row["metadata"]["export_run_id"] == mine.run_id
    exported = open(row["file_path"], encoding="utf-8").read()
    assert ("10.0.3.7" in exported) == (policy == "plain")
    assert materialization_metadata(mine, "export_registry")["export"] == row["file_path"].rsplit("/", 1)[1][:-6]
