"""A throwaway PostgreSQL server on loopback, for the tests and the benchmark.

``initdb`` and ``postgres`` refuse to run as root, so as root the cluster runs as the ``postgres``
user. The server is stopped by its own process id, whatever happened in between.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from .prerequisites import postgres_binary

SUPERUSER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_binary(name: str) -> str:
    found = postgres_binary(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL server binary {name!r} not found: install the postgresql package")
    return found


def _as_cluster_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


def cluster_owner_can_reach(folder: Path) -> bool:
    """Whether the server's user can get to ``folder`` (as root, the server runs as ``postgres``, which
    cannot pass a root-only parent such as /root or a `mktemp -d` folder)."""
    if os.geteuid() != 0:
        return True
    return subprocess.run(_as_cluster_owner(["test", "-x", str(folder)]), capture_output=True).returncode == 0


class LocalPostgres:
    """``with LocalPostgres() as server:`` gives a running server with a password-protected superuser.

    By default the cluster lives in a temporary folder and is deleted when the server stops. Given a
    ``directory`` and ``keep=True``, the cluster is kept there: a later server started on the same
    folder (with the same password) serves the same databases.
    """

    def __init__(
        self,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        directory: Path | None = None,
        keep: bool = False,
        password: str | None = None,
    ):
        self.port = port or free_port()
        self._requested_directory = directory
        self.keep = keep
        self.password = password or secrets.token_urlsafe(16)
        # A kept cluster holds data someone wants back after a crash; a throwaway one trades safety for speed.
        durability = {} if keep else {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        self.settings = {**durability, **(settings or {})}
        self.directory: Path | None = None
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "postgres", driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={SUPERUSER} password={self.password}"

    def start(self) -> "LocalPostgres":
        if self._requested_directory is not None:
            self.directory = Path(self._requested_directory).resolve()
            self.directory.mkdir(parents=True, exist_ok=self.keep)
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="finetune-pg-"))
        data = self.directory / "data"
        if not (data / "PG_VERSION").exists():
            self._initdb(data)
        options = [f"-c{name}={value}" for name, value in self.settings.items()]
        self.process = subprocess.Popen(
            _as_cluster_owner(
                [
                    server_binary("postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.directory),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    *options,
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "server.log", "ab"),
        )
        self._wait_until_ready()
        return self

    def _initdb(self, data: Path) -> None:
        password_file = self.directory / "password"
        password_file.write_text(self.password)
        password_file.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(self.directory, SUPERUSER)
            shutil.chown(password_file, SUPERUSER)
        subprocess.run(
            _as_cluster_owner(
                [
                    server_binary("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={password_file}",
                ]
            ),
            check=True,
            capture_output=True,
        )
        password_file.unlink()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.directory / "server.log").read_text(errors="replace")
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log}") from None
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def server_pid(self) -> int | None:
        """The postmaster's own pid (under runuser, the child we started is not the server)."""
        pid_file = self.directory / "data" / "postmaster.pid" if self.directory else None
        if pid_file is None or not pid_file.exists():
            return None
        return int(pid_file.read_text().split()[0])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pid = self.server_pid()
            if pid is not None:
                os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.directory is not None and not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
