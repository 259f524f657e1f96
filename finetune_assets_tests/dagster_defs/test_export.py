"""Export failures: a clear message, no partial file and no audit row."""

from dagster import DagsterInstance, materialize

from finetune_assets.dagster_defs.resources import ExportStorage

from ..seed import (
    ASSET_CHECKS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    materialize_week,
    resources,
)


def test_an_unwritable_export_path_fails_with_the_path_and_leaves_nothing(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "cpu 97%", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")

    instance = DagsterInstance.ephemeral()
    result = materialize_week(database_url, blocker / "exports", instance=instance, raise_on_error=False)
    assert not result.success
    # The staging folder beside the exports cannot be made either: the run stops before any step.
    failure = next(event for event in result.all_events if event.event_type_value == "RESOURCE_INIT_FAILURE")
    assert f"cannot create {blocker}" in str(failure.event_specific_data.error)
    # With the staging elsewhere, the export step is the one that fails, naming the path.
    storage = ExportStorage(export_path=str(blocker / "exports"), staging_path=str(tmp_path / "staging"))
    result = materialize_week(database_url, storage, instance=instance, raise_on_error=False)
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "jsonl_export" and str(blocker) in str(failure.event_specific_data.error)
    assert audit_rows(database_url) == []
    assert not list(tmp_path.rglob("*.jsonl")) and not list(tmp_path.rglob("*.partial"))


def test_a_range_run_is_refused_before_anything_is_written(database_url, tmp_path):
    # One week per run: a backfill runs each week in a run of its own (Dagster's default for assets
    # without a backfill policy); a run tagged with a range of weeks stops at its first step, leaving
    # no file and no audit row.
    weeks = ["2026-11-02", WEEK]
    week = Week(database_url)
    for offset, days in enumerate((-7, 0)):
        week.evidence(f"INC-{offset}", f"summary {offset}", at(days=days + 1))
        week.execution(f"INC-{offset}", ["restart"], at(days=days + 1))
    week.save()
    result = materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS],
        resources=resources(database_url, tmp_path),
        instance=DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": weeks[0], "dagster/asset_partition_range_end": weeks[1]},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert failure.step_key == "successful_evidence"
    assert "partition" in failure.step_failure_data.error.message
    assert not [path for key in weeks for path in export_files(tmp_path, key)]
    assert audit_rows(database_url) == []
    for asset in LINEAGE_ASSETS:
        assert asset.backfill_policy is None, asset.key
