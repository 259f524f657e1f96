"""A full disk ends a run at once: under each staged step and under the exports, the step fails within
seconds naming the cause and the place, no session of ours stays in the database holding locks, and
nothing half-written is left in the tree trainers read."""

import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from dagster import DagsterInstance
from sqlalchemy import create_engine, text

from finetune_assets.dagster_defs.resources import ExportStorage
from finetune_assets.devtools.benchmark.synthetic import generate

from ..seed import WEEK, audit_rows, materialize_week

pytestmark = pytest.mark.root
ROWS = 40_000
STAGED_STEPS = ("successful_evidence", "coordinator_decisions", "repair_actions", "training_pairs")
# Far below the minutes a hung COPY waited; the 40k-row week itself takes a few seconds.
FAILS_WITHIN_SECONDS = 30
PAGE = 4096


@pytest.fixture(scope="module")
def big_week(postgres_server) -> str:
    name = f"aiops_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    generate(postgres_server.dsn(name), ROWS, WEEK)
    return url


class SmallDisk:
    """A tmpfs of a given size: a disk that fills."""

    def __init__(self, folder: Path, size_bytes: int):
        self.folder = folder
        self.size_bytes = -(-size_bytes // PAGE) * PAGE
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size_bytes},mode=0700", "tmpfs", str(folder)], check=True
        )

    def __enter__(self) -> "SmallDisk":
        return self

    def __exit__(self, *exc_info) -> None:
        subprocess.run(["umount", "--lazy", str(self.folder)], check=True)


def _staged_sizes(url: str, tmp_path: Path) -> dict[str, int]:
    """Each staged file's size in a run with room to spare (the final name appears only when complete)."""
    staging = tmp_path / "roomy-staging"
    sizes: dict[str, int] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for path in staging.glob("assets/*/*/*.parquet"):
                try:
                    sizes[path.parent.parent.name] = path.stat().st_size
                except FileNotFoundError:
                    pass
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        storage = ExportStorage(export_path=str(tmp_path / "roomy-exports"), staging_path=str(staging))
        materialize_week(url, storage, instance=DagsterInstance.ephemeral())
    finally:
        done.set()
        watcher.join()
    assert set(sizes) == set(STAGED_STEPS)
    return sizes


def _sessions_of_ours(url: str, within: float = 5.0) -> list[tuple]:
    """The client sessions on the database besides this one, once none is left or ``within`` seconds have
    passed: a query the step cancelled ends on the server a moment after the step has failed."""
    deadline = time.monotonic() + within
    while (sessions := _sessions_now(url)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sessions


def _sessions_now(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT a.pid, a.state, l.relation::regclass::text FROM pg_stat_activity a "
                    "LEFT JOIN pg_locks l ON l.pid = a.pid AND l.relation IS NOT NULL "
                    "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
                    # Clients only: the server's autovacuum, which the freshly loaded week sets off, holds
                    # locks on the same tables and indexes for seconds under load, and is not ours.
                    "AND a.backend_type = 'client backend'"
                )
            ).all()
    finally:
        engine.dispose()


def _bounded_run(url: str, storage: ExportStorage):
    """The run's result; a run still going after the bound fails the test instead of hanging it."""
    outcome = {}

    def run() -> None:
        outcome["result"] = materialize_week(url, storage, instance=DagsterInstance.ephemeral(), raise_on_error=False)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(FAILS_WITHIN_SECONDS)
    assert not runner.is_alive(), f"the run was still going after {FAILS_WITHIN_SECONDS} s"
    return outcome["result"]


def _failure(result, step: str) -> str:
    """The step's failure; a step beside it on the same full disk may fail too, none before it."""
    failed = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert failed and failed[0].step_key == step, [event.step_key for event in failed]
    return failed[0].event_specific_data.error.message


def test_a_full_staging_disk_fails_each_step_at_once_and_leaves_no_session(big_week, tmp_path):
    sizes = _staged_sizes(big_week, tmp_path)
    for index, step in enumerate(STAGED_STEPS):
        # Room for the steps before it and half of its own file.
        room = sum(sizes[earlier] + PAGE for earlier in STAGED_STEPS[:index]) + sizes[step] // 2
        folder = tmp_path / f"disk-{step}"
        with SmallDisk(folder, room):
            storage = ExportStorage(export_path=str(tmp_path / "exports"), staging_path=str(folder / "staging"))
            result = _bounded_run(big_week, storage)
        message = _failure(result, step)
        assert "No space left on device" in message and str(folder / "staging") in message, message
        assert _sessions_of_ours(big_week) == [], step
        assert not list((tmp_path / "exports").glob("*/*")), step


def test_a_full_export_disk_fails_the_publication_and_leaves_no_file_for_trainers(big_week, tmp_path):
    folder = tmp_path / "exports"
    with SmallDisk(folder, 2 << 20):
        storage = ExportStorage(export_path=str(folder), staging_path=str(tmp_path / "staging"))
        result = _bounded_run(big_week, storage)
        left = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))
    # Written and checked in the staging store; publishing into the full export tree is what fails.
    message = _failure(result, "export_registry")
    assert "No space left on device" in message and str(folder) in message, message
    assert left == [WEEK], left  # the week's folder, which every export of the week shares
    assert not [row for row in audit_rows(big_week, export_type=None) if row["file_path"].startswith(str(folder))]
    assert _sessions_of_ours(big_week) == []
