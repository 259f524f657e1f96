"""What the test suite needs from the machine beyond Python packages, checked before any test runs.

The PostgreSQL tests start a real server, and the browser test drives Debian's Chromium (a test tool's
own browser download does not work everywhere). A missing one fails the run at once, named with the
command that installs it, instead of after minutes of other tests.
"""

import glob
import os
import shutil
from collections.abc import Callable

CHROMIUM_NAMES = ("chromium", "chromium-browser")
POSTGRES_BINARIES = ("initdb", "postgres")
POSTGRES_FOLDERS = "/usr/lib/postgresql/*/bin/{}"


def chromium_executable(which: Callable[[str], str | None] = shutil.which) -> str | None:
    return next((path for path in map(which, CHROMIUM_NAMES) if path), None)


def postgres_binary(
    name: str, which: Callable[[str], str | None] = shutil.which, folders: str = POSTGRES_FOLDERS
) -> str | None:
    """``initdb``/``postgres`` from PATH, else from Debian's versioned folder (not on PATH by default)."""
    return which(name) or next(iter(sorted(glob.glob(folders.format(name)), reverse=True)), None)


def missing(
    needs_postgres: bool,
    needs_chromium: bool,
    which: Callable[[str], str | None] = shutil.which,
    folders: str = POSTGRES_FOLDERS,
    needs_root: bool = False,
    euid: Callable[[], int] = os.geteuid,
) -> list[str]:
    """One line per missing prerequisite, saying how to install it."""
    problems = []
    if needs_postgres:
        absent = [name for name in POSTGRES_BINARIES if not postgres_binary(name, which, folders)]
        if absent:
            problems.append(
                f"PostgreSQL server ({', '.join(absent)} not on PATH or in /usr/lib/postgresql/*/bin): "
                "apt-get install postgresql"
            )
    if needs_chromium and not chromium_executable(which):
        problems.append(f"Chromium ({' or '.join(CHROMIUM_NAMES)} not on PATH): apt-get install chromium")
    if needs_root and euid() != 0:
        problems.append(
            "root (the fault tests mount small tmpfs disks and hand folders to another user): run the suite as "
            "root, as CI does, or deselect them with -m 'not root'"
        )
    return problems
