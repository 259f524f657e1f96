"""Export failures: a clear message, no partial file and no audit row."""

import json

import pytest
from dagster import DagsterInstance, materialize

from finetune_assets.assets.export import export_registry, manifest_path
from finetune_assets.resources import ExportStorage

from .seed import WEEK, Week, at, audit_rows, materialize_week, resources


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
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key in {"successful_evidence", "jsonl_export"}
    assert str(blocker) in str(failure.event_specific_data.error)
    assert audit_rows(database_url) == []
    assert not list(tmp_path.rglob("*.jsonl")) and not list(tmp_path.rglob("*.partial"))


def test_registry_refuses_an_export_file_that_changed_after_writing(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "cpu 97%", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    materialize_week(database_url, tmp_path)
    manifest = json.loads(manifest_path(ExportStorage(export_path=str(tmp_path)), WEEK).read_text())
    with open(manifest["file_path"], "ab") as handle:
        handle.write(b"tampered\n")

    with pytest.raises(Exception, match="missing or changed"):
        materialize([export_registry], partition_key=WEEK, resources=resources(database_url, tmp_path))
    assert len(audit_rows(database_url)) == 1
