"""Intermediates persist per week and run, behind the IO manager: after a full run each asset
materializes alone in a later run, from what its upstream persisted; a run reads its own upstream (or
that of the run it re-executes), never another run's half-written rows; superseded files go by the
retention rule, never while another run of the week is going."""

import hashlib
import os
import stat
import threading
import time
import uuid

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    DagsterInstance,
    ReexecutionOptions,
    execute_job,
    materialize,
    reconstructable,
)
from sqlalchemy import create_engine, text

from finetune_assets.dagster_defs.resources import DatasetPolicy, ExportStorage
from finetune_assets.dagster_defs.staged_io import STAGED_IO, StagedParquetIOManager
from finetune_assets.definitions import build_definitions

from ..seed import (
    ASSET_CHECKS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    local_storage,
    materialization_metadata,
    materialize_week,
    pending_files,
    read_lines,
    resources,
    staging_of,
)

EXTRACTS = ("successful_evidence", "coordinator_decisions", "repair_actions")


def _week(url: str) -> None:
    week = Week(url)
    for n in range(5):
        week.evidence(f"INC-{n}", f"disk {n} full", at(days=1, hours=n))
        week.execution(f"INC-{n}", ["rotate_logs"], at(days=1, hours=n))
    week.save()


def _staged(export_path, asset: str) -> dict[str, os.stat_result]:
    folder = staging_of(export_path) / "assets" / asset / WEEK
    return {path.stem: path.stat() for path in folder.glob("*.parquet")} if folder.exists() else {}


def _read_from(result, step: str) -> dict[str, str]:
    """The run each input of ``step`` was read from, by input name, as the LOADED_INPUT events say."""
    return {
        event.event_specific_data.input_name: event.event_specific_data.metadata["read_from_run"].value
        for event in result.all_events
        if event.event_type_value == "LOADED_INPUT" and event.step_key == step
    }


def _alone(asset: str, url: str, export_path, instance, **options):
    selection = AssetSelection.assets(asset)
    if asset == "jsonl_export":
        selection |= AssetSelection.checks_for_assets(asset)
    return materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS],
        selection=selection,
        partition_key=WEEK,
        resources={**resources(url, export_path), **options},
        instance=instance,
        raise_on_error=False,
    )


@pytest.fixture
def postgres_instance(postgres_server, tmp_path):
    """A Dagster instance whose runs and events live in PostgreSQL, as in production."""
    url = postgres_server.create_database(f"dagster_{uuid.uuid4().hex[:12]}").replace("+psycopg", "+psycopg2")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {url}\n")
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


def test_after_a_full_run_each_asset_materializes_alone_in_a_run_of_its_own(postgres_url, tmp_path, postgres_instance):
    _week(postgres_url)
    full = materialize_week(postgres_url, tmp_path, instance=postgres_instance)
    # What a change of FINETUNE_REDACTION_PATTERNS asks for: the pairs again, then their export.
    pairs = _alone("training_pairs", postgres_url, tmp_path, postgres_instance)
    assert pairs.success
    assert _read_from(pairs, "training_pairs") == {name: full.run_id for name in EXTRACTS}
    exported = _alone("jsonl_export", postgres_url, tmp_path, postgres_instance)
    assert exported.success
    assert _read_from(exported, "jsonl_export") == {"training_pairs": pairs.run_id}
    assert len(export_files(tmp_path)) == 1  # checked, not yet published
    registered = _alone("export_registry", postgres_url, tmp_path, postgres_instance)
    assert registered.success
    export = materialization_metadata(exported, "jsonl_export")["export"]
    assert materialization_metadata(registered, "export_registry")["export"] == export
    assert sorted(path.stem for path in export_files(tmp_path))[-1] == export
    assert len(audit_rows(postgres_url)) == 2
    # The intermediates of both runs stay, owner-only (the extracts hold source text as read), until
    # the retention rule lets them go.
    assert set(_staged(tmp_path, "training_pairs")) == {full.run_id, pairs.run_id}
    staged = (*EXTRACTS, "training_pairs")
    modes = {asset: [stat.S_IMODE(status.st_mode) for status in _staged(tmp_path, asset).values()] for asset in staged}
    assert modes == {**{asset: [0o600] for asset in EXTRACTS}, "training_pairs": [0o600, 0o600]}
    folders = [staging_of(tmp_path) / "assets" / asset / week for asset in staged for week in ("", WEEK)]
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in folders} == {0o700}
    [record] = postgres_instance.fetch_materializations(AssetKey("training_pairs"), limit=1).records
    assert record.asset_materialization.metadata["staged_file"].value.endswith(f"{pairs.run_id}.parquet")


def test_a_step_alone_with_nothing_recorded_or_nothing_left_says_what_to_materialize(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    never = _alone("training_pairs", database_url, tmp_path, instance)
    message = _failure(never, "training_pairs")
    # Inputs load in name order: the first one missing is named.
    assert "coordinator_decisions has no materialization of week 2026-11-09 recorded" in message
    assert "select coordinator_decisions* for the whole lineage" in message

    full = materialize_week(database_url, tmp_path, instance=instance)
    (staging_of(tmp_path) / "assets" / "coordinator_decisions" / WEEK / f"{full.run_id}.parquet").unlink()
    gone = _alone("training_pairs", database_url, tmp_path, instance)
    message = _failure(gone, "training_pairs")
    assert f"coordinator_decisions of week 2026-11-09, as materialized by run {full.run_id}, is no longer staged" in (
        message
    )
    assert "materialize coordinator_decisions for this week again" in message


def _failure(result, step: str) -> str:
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key == step
    return str(failure.event_specific_data.error)


def weekly_job():
    """The weekly job as the code location builds it from the environment (reconstructable for the
    multiprocess executor and for re-execution)."""
    return build_definitions().resolve_job_def("weekly_finetune_export")


def test_reexecution_from_failure_reads_what_the_failed_run_persisted_not_a_later_run(
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
        # Meanwhile the week changed and another run materialized its pairs: the latest, but not the
        # failed run's own.
        week = Week(postgres_url)
        week.evidence("INC-9", "disk 9 full", at(days=2))
        week.execution("INC-9", ["rotate_logs"], at(days=2))
        week.save()
        later = materialize(
            LINEAGE_ASSETS,
            selection=AssetSelection.assets(*EXTRACTS, "training_pairs"),
            partition_key=WEEK,
            resources=resources(
                postgres_url, ExportStorage(export_path=str(tmp_path / "elsewhere"), staging_path=str(staging))
            ),
            instance=instance,
        )
        assert materialization_metadata(later, "training_pairs")["dagster/row_count"] == 6

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
        assert "training_pairs" not in steps and "jsonl_export" in steps
        assert _read_from(resumed, "jsonl_export") == {"training_pairs": failed.run_id}
    [published] = export_files(blocker / "exports")
    assert len(read_lines(published)) == 5  # the failed run's week, not the later one's six pairs
    assert len(audit_rows(postgres_url)) == 1


def _waiting_on_lock(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar()
            )
    finally:
        engine.dispose()


def test_a_run_alone_beside_a_full_run_of_the_same_week_reads_only_complete_recorded_work(
    postgres_url, tmp_path, postgres_instance
):
    _week(postgres_url)
    first = materialize_week(postgres_url, tmp_path, instance=postgres_instance)
    retain_none = {STAGED_IO: StagedParquetIOManager(export_storage=local_storage(tmp_path), retention_days=0)}
    # A full run of the week stalls in its third extract, on a table lock this test holds.
    holder = create_engine(postgres_url)
    lock = holder.connect()
    transaction = lock.begin()
    lock.execute(text("LOCK TABLE auto_repair_executions IN ACCESS EXCLUSIVE MODE"))
    outcome = {}

    def full_run() -> None:
        outcome["full"] = materialize_week(postgres_url, tmp_path, instance=postgres_instance, raise_on_error=False)

    runner = threading.Thread(target=full_run)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not _waiting_on_lock(postgres_url):
            assert time.monotonic() < deadline, "the full run never reached the locked table"
            time.sleep(0.1)
        # Beside it, the pairs alone: from the recorded extracts, never from the stalled run's partial
        # file; and with a retention of zero, nothing is swept while the other run goes.
        alone = _alone("training_pairs", postgres_url, tmp_path, postgres_instance, **retain_none)
        assert alone.success
        read = _read_from(alone, "training_pairs")
        assert read["repair_actions"] == first.run_id
        assert set(_staged(tmp_path, "training_pairs")) == {first.run_id, alone.run_id}
    finally:
        transaction.rollback()
        lock.close()
        holder.dispose()
        runner.join(120)
    full = outcome["full"]
    assert full.success
    assert _read_from(full, "training_pairs") == {name: full.run_id for name in EXTRACTS}
    assert _read_from(full, "jsonl_export") == {"training_pairs": full.run_id}

    # Once no other run of the week goes, the next write sweeps what is superseded and over.
    again = _alone("training_pairs", postgres_url, tmp_path, postgres_instance, **retain_none)
    assert again.success and set(_staged(tmp_path, "training_pairs")) == {again.run_id}
    notes = [
        entry.user_message for entry in postgres_instance.all_logs(again.run_id) if "superseded" in entry.user_message
    ]
    assert len(notes) == 1 and first.run_id in notes[0] and "FINETUNE_STAGING_RETENTION=0 days" in notes[0]


def test_the_default_retention_keeps_a_superseded_file_for_seven_days(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    first = materialize_week(database_url, tmp_path, instance=instance)
    second = materialize_week(database_url, tmp_path, instance=instance)
    assert set(_staged(tmp_path, "successful_evidence")) == {first.run_id, second.run_id}
    older = staging_of(tmp_path) / "assets" / "successful_evidence" / WEEK / f"{first.run_id}.parquet"
    six_days_ago = time.time() - 6 * 86_400
    os.utime(older, (six_days_ago, six_days_ago))
    materialize_week(database_url, tmp_path, instance=instance)
    assert older.exists()
    eight_days_ago = time.time() - 8 * 86_400
    os.utime(older, (eight_days_ago, eight_days_ago))
    third = materialize_week(database_url, tmp_path, instance=instance)
    assert not older.exists()
    assert third.run_id in _staged(tmp_path, "successful_evidence")


@pytest.mark.parametrize("policy", ["mask", "plain"])
def test_checks_and_registry_read_their_own_runs_export_not_the_newest(database_url, tmp_path, policy):
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


def test_the_checks_and_the_registry_read_the_export_manifest_the_instance_recorded(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    full = materialize_week(database_url, tmp_path, instance=instance)
    exported = _alone("jsonl_export", database_url, tmp_path, instance)
    assert exported.success
    manifest = materialization_metadata(exported, "jsonl_export")["manifest"]
    [pending] = pending_files(tmp_path)
    assert manifest["snapshot"]["sha256"] == hashlib.sha256(pending.read_bytes()).hexdigest()
    # The staging store's copy serves only the sweep: the registry, in a later run, does without it.
    copy = staging_of(tmp_path) / "exports" / WEEK / manifest["export"] / "manifest.json"
    copy.unlink()
    registered = _alone("export_registry", database_url, tmp_path, instance)
    assert registered.success
    assert materialization_metadata(registered, "export_registry")["manifest"] == manifest
    assert manifest["export"] in {path.stem for path in export_files(tmp_path)}
    assert [row["checksum_sha256"] for row in audit_rows(database_url)][-1] == manifest["snapshot"]["sha256"]
    assert full.success


def test_an_export_recorded_without_its_manifest_is_named_not_guessed(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    instance.report_runless_asset_event(
        AssetMaterialization("jsonl_export", partition=WEEK, metadata={"export": f"finetune-{WEEK}-old"})
    )
    message = _failure(_alone("export_registry", database_url, tmp_path, instance), "export_registry")
    assert f"jsonl_export for week {WEEK}" in message and "recorded without its export's manifest" in message
    assert "materialize jsonl_export for the week again" in message
    assert audit_rows(database_url) == [] and export_files(tmp_path) == []
