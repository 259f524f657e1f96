"""The suite's first seconds: a machine without PostgreSQL or Chromium is told what to install."""

import subprocess
import sys
import time
from pathlib import Path

from finetune_assets.devtools.prerequisites import missing

from ..newcomer import REPOSITORY


def test_each_missing_prerequisite_is_named_with_its_install_command():
    nothing = missing(True, True, which=lambda name: None, folders="/nonexistent/{}")
    assert nothing == [
        "PostgreSQL server (initdb, postgres not on PATH or in /usr/lib/postgresql/*/bin): apt-get install postgresql",
        "Chromium (chromium or chromium-browser not on PATH): apt-get install chromium",
    ]
    everything = missing(True, True, which=lambda name: f"/usr/bin/{name}", folders="/nonexistent/{}")
    assert everything == []
    assert missing(False, False, which=lambda name: None, folders="/nonexistent/{}") == []


def test_the_test_command_stops_in_its_first_seconds_without_chromium(tmp_path):
    # Only Python's own folder on PATH: chromium is not found; PostgreSQL still is, in /usr/lib/postgresql.
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "finetune_assets_tests/e2e/test_stack.py"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stdout[-2000:]
    assert "Chromium (chromium or chromium-browser not on PATH): apt-get install chromium" in done.stdout + done.stderr
    assert " passed" not in done.stdout and time.monotonic() - began < 30


def test_tests_marked_root_need_root_and_say_how_to_leave_them_out():
    [problem] = missing(False, False, needs_root=True, euid=lambda: 1000)
    assert problem.startswith("root (") and "-m 'not root'" in problem
    assert missing(False, False, needs_root=True, euid=lambda: 0) == []
