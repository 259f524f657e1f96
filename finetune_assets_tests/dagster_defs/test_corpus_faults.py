"""Nothing a failed corpus build leaves blocks the next one: a build killed part-way, one that failed on
a changed input and one that met a full disk are each followed by a build that succeeds, and only a
registered version is ever treated as existing."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from finetune_assets.dagster_defs.resources import CorpusPolicy
from finetune_assets.devtools.benchmark.synthetic import generate

from ..corpus_weeks import Weeks, build_corpus, register_weeks
from ..seed import WEEK, audit_rows, materialization_metadata, staging_of
from .test_full_disk import SmallDisk

REPOSITORY = Path(__file__).resolve().parents[2]
# The synthetic week's summaries are a few templates with other numbers: near-duplicate removal would
# leave a handful of lines. Exact only, the build writes 39,200 lines, long enough to be killed mid-way.
EXACT_ONLY = CorpusPolicy(cluster_keep=0)
ROWS = 40_000
W0, W1 = "2026-10-26", "2026-11-02"


def _corpus_rows(url: str) -> list[dict]:
    return [row for row in audit_rows(url, export_type=None) if row["export_type"].startswith("corpus_")]


def _only_registered_versions(url: str, exports: Path) -> None:
    """Every folder under corpus/ is a registered version holding exactly its registered files."""
    rows = _corpus_rows(url)
    versions = {row["metadata"]["corpus_version"] for row in rows}
    folders = sorted((exports / "corpus").iterdir()) if (exports / "corpus").exists() else []
    assert {folder.name for folder in folders} == versions
    for folder in folders:
        assert not [path.name for path in folder.rglob(".*")], folder
        rows_of = [row for row in rows if row["metadata"]["corpus_version"] == folder.name]
        registered = {Path(row["file_path"]).relative_to(folder) for row in rows_of}
        assert registered <= {path.relative_to(folder) for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def big_registered_week(postgres_server, tmp_path) -> tuple[str, Path]:
    name = f"aiops_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    generate(postgres_server.dsn(name), ROWS, WEEK)
    exports = tmp_path / "exports"
    register_weeks(url, exports, [WEEK])
    return url, exports


def _kill_when(url: str, exports: Path, reached) -> bool:
    """Starts a build in a process of its own and kills it (SIGKILL) as soon as ``reached(folder)``
    holds for its version folder; False if the build ended first."""
    code = (
        "import sys; from pathlib import Path; from finetune_assets_tests.corpus_weeks import build_corpus; "
        "from finetune_assets_tests.dagster_defs.test_corpus_faults import EXACT_ONLY; "
        "build_corpus(sys.argv[1], Path(sys.argv[2]), corpus_policy=EXACT_ONLY)"
    )
    build = subprocess.Popen(
        [sys.executable, "-c", code, url, str(exports)],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while build.poll() is None:
            folders = list((exports / "corpus").glob("*")) if (exports / "corpus").exists() else []
            if any(reached(folder) for folder in folders):
                os.killpg(build.pid, signal.SIGKILL)
                build.wait()
                return True
            time.sleep(0.001)
        return False
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()


def _shard_partial_with_lines(folder: Path) -> bool:
    """A shard being written: its hidden partial file, in its format and side's folder, holds lines."""
    for path in folder.glob("*/.*.partial"):
        with suppress(FileNotFoundError):  # renamed into place meanwhile
            if path.stat().st_size > 0:
                return True
    return False


KILL_POINTS = {
    "the version folder appears": lambda folder: True,
    "a partial file holds lines": _shard_partial_with_lines,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_build_killed_part_way_leaves_nothing_the_next_build_trips_on(big_registered_week, point):
    url, exports = big_registered_week
    assert _kill_when(url, exports, KILL_POINTS[point]), f"the build ended before {point}"
    assert list((exports / "corpus").iterdir()) and not _corpus_rows(url)  # a leftover, unregistered
    result = build_corpus(url, exports, corpus_policy=EXACT_ONLY)
    metadata = materialization_metadata(result, "training_corpus")
    assert metadata["dagster/row_count"] == ROWS - ROWS // 50  # one summary in fifty repeats another
    _only_registered_versions(url, exports)


def _two_registered_weeks(url: str, exports: Path) -> dict:
    """W0 and W1 exported and registered; the audit row of W1's snapshot."""
    weeks = Weeks(url)
    weeks.add(W0, "disk-1", "disk full on worker-1")
    weeks.add(W1, "disk-2", "disk full on worker-2")
    register_weeks(url, exports, [W0, W1])
    [snapshot] = [row for row in audit_rows(url) if row["metadata"]["partition_key"] == W1]
    return snapshot


def _failure(url: str, exports: Path) -> str:
    """The error of a corpus build that must fail."""
    failed = build_corpus(url, exports, raise_on_error=False)
    assert not failed.success
    return str(next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error)


def test_a_build_that_failed_on_a_changed_input_succeeds_once_it_is_restored(postgres_url, tmp_path):
    snapshot = _two_registered_weeks(postgres_url, tmp_path)
    path = Path(snapshot["file_path"])
    original = path.read_bytes()
    path.write_bytes(original.replace(b"worker-2", b"worker-X"))
    message = _failure(postgres_url, tmp_path)
    assert "no longer holds the registered bytes" in message and "while" not in message.split(str(path))[1][:40]
    assert not list((tmp_path / "corpus").iterdir()) if (tmp_path / "corpus").exists() else True
    path.write_bytes(original)
    assert build_corpus(postgres_url, tmp_path).success
    _only_registered_versions(postgres_url, tmp_path)


@pytest.mark.root
def test_a_full_disk_fails_the_build_naming_the_folder_and_the_next_build_succeeds(postgres_url, tmp_path):
    weeks = Weeks(postgres_url)
    for n in range(200):
        weeks.add(W0 if n % 2 else W1, f"disk-{n}", f"disk full on worker-{n}: " + "log line " * 40)
    exports = tmp_path / "exports"
    with SmallDisk(exports, 4 << 20):
        register_weeks(postgres_url, exports, [W0, W1])
        filler = exports / "filler"
        _fill(filler)
        failed = build_corpus(postgres_url, exports, raise_on_error=False)
        assert not failed.success
        failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
        message = str(failure.event_specific_data.error)
        assert "No space left on device" in message and str(exports / "corpus") in message, message
        assert not list((exports / "corpus").iterdir())
        filler.unlink()
        assert build_corpus(postgres_url, exports).success
        _only_registered_versions(postgres_url, exports)


def _fill(path: Path) -> None:
    """Writes ``path`` until its disk is full."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)


def test_an_unregistered_version_folder_is_swept_and_the_version_built_again(postgres_url, tmp_path):
    weeks = Weeks(postgres_url)
    weeks.add(W0, "disk-1", "disk full on worker-1")
    register_weeks(postgres_url, tmp_path, [W0])
    version = materialization_metadata(build_corpus(postgres_url, tmp_path), "training_corpus")["version"]
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM finetune_exports WHERE export_type LIKE 'corpus_%'"))
    engine.dispose()
    (tmp_path / "corpus" / version / ".alpaca.train.jsonl.123-abcd.partial").write_bytes(b"half a line")
    [signatures] = (staging_of(tmp_path) / "corpus" / "signatures").iterdir()
    signer_left = signatures / ".week.arrow.123-abcd.partial"
    signer_left.write_bytes(b"half a signature")
    result = build_corpus(postgres_url, tmp_path)
    assert materialization_metadata(result, "training_corpus")["version"] == version
    _only_registered_versions(postgres_url, tmp_path)
    assert not signer_left.exists()


def test_a_week_exported_under_another_export_path_is_left_out_and_counted(postgres_url, tmp_path):
    weeks = Weeks(postgres_url)
    weeks.add(W0, "disk-1", "disk full on worker-1")
    weeks.add(W1, "disk-2", "disk full on worker-2")
    exports, elsewhere = tmp_path / "exports", tmp_path / "other-exports"
    register_weeks(postgres_url, exports, [W0, W1])
    register_weeks(postgres_url, elsewhere, [W1])  # the newest row of W1 now names the other store
    outside = [row["id"] for row in audit_rows(postgres_url) if str(elsewhere) in row["file_path"]]
    result = build_corpus(postgres_url, exports)
    metadata = materialization_metadata(result, "training_corpus")
    assert metadata["left_out_elsewhere"] == len(outside) == 1
    assert metadata["weeks"] == 2 and metadata["dagster/row_count"] == 2  # W1 from its export in this store
    lines = [path.read_text() for path in (exports / "corpus").glob("*/alpaca.*/*.jsonl")]
    assert "worker-2" in "".join(lines)


def test_without_exclusive_turns_only_a_quiet_leftover_is_swept(sqlite_url, tmp_path):
    """The SQLite demo has no advisory lock: a folder that changed recently may be a live build's."""
    weeks = Weeks(sqlite_url)
    weeks.add(W0, "disk-1", "disk full on worker-1")
    register_weeks(sqlite_url, tmp_path, [W0])
    fresh, quiet = tmp_path / "corpus" / "corpus-0000000000000001", tmp_path / "corpus" / "corpus-0000000000000002"
    for folder in (fresh, quiet):
        folder.mkdir(parents=True)
        (folder / ".alpaca.train.jsonl.1-ab.partial").write_bytes(b"half a line")
    long_ago = time.time() - 3600
    for path in (quiet / ".alpaca.train.jsonl.1-ab.partial", quiet):
        os.utime(path, (long_ago, long_ago))
    assert build_corpus(sqlite_url, tmp_path).success
    assert fresh.exists() and not quiet.exists()


def test_a_plan_another_instance_left_for_the_same_version_is_replaced(sqlite_url, tmp_path):
    """Two instances sharing a staging store (the default one, say) build the same version from the same
    files: the second finds the first's plan folder, too recent to sweep without exclusive turns."""
    weeks = Weeks(sqlite_url)
    weeks.add(W0, "disk-1", "disk full on worker-1")
    register_weeks(sqlite_url, tmp_path, [W0])
    version = materialization_metadata(build_corpus(sqlite_url, tmp_path), "training_corpus")["version"]
    plan = staging_of(tmp_path) / "corpus" / "plans" / version
    written = {path.name: path.read_bytes() for path in plan.iterdir()}
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:  # the other instance: no corpus in its database or its export path
        connection.execute(text("DELETE FROM finetune_exports WHERE export_type LIKE 'corpus_%'"))
    engine.dispose()
    shutil.rmtree(tmp_path / "corpus")
    again = build_corpus(sqlite_url, tmp_path)
    assert materialization_metadata(again, "training_corpus")["version"] == version
    assert {path.name: path.read_bytes() for path in plan.iterdir()} == written


def test_an_audit_row_whose_line_count_is_not_its_files_fails_the_build_naming_it(postgres_url, tmp_path):
    snapshot = _two_registered_weeks(postgres_url, tmp_path)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE finetune_exports SET record_count = record_count + 1 WHERE id = :id"), {"id": snapshot["id"]}
        )
    engine.dispose()
    message = _failure(postgres_url, tmp_path)
    assert (
        f"(audit row {snapshot['id']} of week {W1}) is registered with {snapshot['record_count'] + 1} lines" in message
    )
    assert not _corpus_rows(postgres_url)
