"""The staging root is ours or it is refused: created with mode 0700 when missing; an existing one
owned by another user, writable by others, or a symbolic link stops the run before any work, naming
the path and the fix."""

import os
import stat
import tempfile

import pytest
from dagster import DagsterInstance

from finetune_assets.dagster_defs.resources import ExportStorage, default_staging_path

from ..seed import audit_rows, materialize_week, small_week

pytestmark = pytest.mark.root
NOBODY = 65534


def _run(url: str, storage: ExportStorage):
    return materialize_week(url, storage, instance=DagsterInstance.ephemeral(), raise_on_error=False)


def _failure(result) -> str:
    failure = next(event for event in result.all_events if event.event_type_value == "RESOURCE_INIT_FAILURE")
    return str(failure.event_specific_data.error)


def test_a_missing_staging_root_is_created_for_this_user_alone(sqlite_url, tmp_path):
    small_week(sqlite_url)
    staging = tmp_path / "new" / "staging"
    result = _run(sqlite_url, ExportStorage(export_path=str(tmp_path / "exports"), staging_path=str(staging)))
    assert result.success
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700 and staging.stat().st_uid == os.geteuid()


@pytest.mark.parametrize(
    "owner, mode, says",
    [
        (NOBODY, 0o700, f"belongs to uid {NOBODY}, not to this user"),
        (os.geteuid(), 0o777, "is writable by others (mode 0777)"),
        (os.geteuid(), 0o770, "is writable by others (mode 0770)"),
    ],
)
def test_a_staging_root_another_user_controls_stops_the_run_before_any_work(sqlite_url, tmp_path, owner, mode, says):
    small_week(sqlite_url)
    staging = tmp_path / "staging"
    staging.mkdir()
    os.chown(staging, owner, owner)
    staging.chmod(mode)
    exports = tmp_path / "exports"
    result = _run(sqlite_url, ExportStorage(export_path=str(exports), staging_path=str(staging)))
    assert not result.success
    message = _failure(result)
    assert f"FINETUNE_STAGING_PATH: {staging} {says}" in message and "Remove it" in message, message
    assert list(staging.iterdir()) == [] and not exports.exists() and audit_rows(sqlite_url) == []


def test_a_staging_root_that_is_a_link_is_refused(sqlite_url, tmp_path):
    small_week(sqlite_url)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "staging").symlink_to(tmp_path / "elsewhere")
    storage = ExportStorage(export_path=str(tmp_path / "exports"), staging_path=str(tmp_path / "staging"))
    assert "is a symbolic link" in _failure(_run(sqlite_url, storage))


def test_the_default_staging_folder_planted_by_another_user_is_refused(sqlite_url, tmp_path, monkeypatch):
    small_week(sqlite_url)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    planted = default_staging_path()
    assert planted.is_relative_to(tmp_path)
    planted.parent.mkdir()
    os.chown(planted.parent, NOBODY, NOBODY)
    planted.parent.chmod(0o777)
    storage = ExportStorage(export_path=str(tmp_path / "exports"))
    message = _failure(_run(sqlite_url, storage))
    assert f"the default staging folder: {planted.parent} belongs to uid {NOBODY}" in message
    assert not planted.exists()
