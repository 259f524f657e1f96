"""The local production stack: PostgreSQL for the instance (and, optionally, the AIOps sources),
the Dagster webserver and the daemon, with the production instance file and ``workspace.yaml``.

    python -m finetune_assets.devtools.stack up [--aiops-demo] [--port 3000]
    python -m finetune_assets.devtools.stack down            # stops every process; keeps all data
    python -m finetune_assets.devtools.stack down --purge    # also deletes the stack's folder, after listing it

The stack's state (PostgreSQL's data, Dagster's home, logs) lives under ``.finetune_stack/``; ``up``
after ``down`` starts the same stack again. Exports are never written there: they go where
FINETUNE_EXPORT_PATH says, by default ``.finetune_demo/exports``, which no stack command touches.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .local_postgres import SUPERUSER, LocalPostgres, cluster_owner_can_reach, free_port

STACK_DIRECTORY = Path(".finetune_stack")
PRODUCTION_INSTANCE = Path("deploy") / "production" / "dagster.yaml"
INSTANCE_DATABASE = "dagster"
AIOPS_DATABASE = "aiops"


@dataclass
class StackState:
    directory: str
    port: int
    pg_port: int = 0
    pg_password: str = ""
    pg_directory: str = ""
    pg_pid: int = 0
    aiops_url: str = ""
    pids: dict = field(default_factory=dict)

    def save(self) -> None:
        path = Path(self.directory, "state.json")
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)  # it holds the local server's password

    @classmethod
    def load(cls, directory: Path) -> "StackState":
        return cls(**json.loads((directory / "state.json").read_text()))


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    return str(beside_python) if beside_python.exists() else shutil.which(name) or name


def instance_environment(server: LocalPostgres, database: str) -> dict[str, str]:
    """The variables the production instance file reads."""
    return {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_USERNAME": SUPERUSER,
        "DAGSTER_PG_PASSWORD": server.password,
        "DAGSTER_PG_DB": database,
    }


def start_dagster(state: StackState, repository: Path, env: dict[str, str]) -> None:
    """Starts the webserver and the daemon, each in its own process group, and waits for the UI."""
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(repository / PRODUCTION_INSTANCE, home / "dagster.yaml")
    workspace = str(repository / "workspace.yaml")
    commands = {
        "webserver": [_executable("dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(state.port)],
        "daemon": [_executable("dagster-daemon"), "run", "-w", workspace],
    }
    for name, command in commands.items():
        log = open(Path(state.directory) / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, cwd=repository, env=env, stdout=log, stderr=log, start_new_session=True, preexec_fn=default_signals
        )
        state.pids[name] = process.pid
    state.save()
    wait_for_webserver(state.port)


def default_signals() -> None:
    """A child started from a background shell inherits SIGINT and SIGTERM ignored, and would then
    outlive the signal meant to stop it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def wait_for_webserver(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Dagster webserver did not answer on port {port} within {timeout:.0f} s")
        time.sleep(0.5)


def stop_processes(state: StackState) -> None:
    for _name, pid in state.pids.items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    state.pids = {}


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    except ChildProcessError:
        return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _stop_postgres(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)


def _export_path(env: dict[str, str], repository: Path) -> Path | None:
    """Where this stack's runs write exports, when that is a local folder."""
    value = env.get("FINETUNE_EXPORT_PATH") or ".finetune_demo/exports"
    return None if "://" in value else (repository / value).resolve()


def up(directory: Path, port: int, aiops_demo: bool) -> StackState:
    directory = directory.resolve()
    repository = Path.cwd()
    restarting = (directory / "state.json").exists()
    if restarting:
        state = StackState.load(directory)
        if any(_alive(pid) for pid in [*state.pids.values(), state.pg_pid] if pid):
            raise RuntimeError(
                f"a stack is already up in {directory}: run `python -m finetune_assets.devtools.stack down` first"
            )
        state.port = port
    else:
        state = StackState(str(directory), port)
    env = {**os.environ, "DAGSTER_HOME": str(directory / "home")}
    exports = _export_path(env, repository)
    if exports is not None and exports.is_relative_to(directory):
        raise RuntimeError(
            f"FINETUNE_EXPORT_PATH={env['FINETUNE_EXPORT_PATH']} is inside the stack's folder {directory}, which "
            "`stack down --purge` deletes: choose a folder outside it"
        )
    directory.mkdir(parents=True, exist_ok=True)
    cluster = Path(state.pg_directory) if state.pg_directory else _cluster_folder(directory)
    server = LocalPostgres(directory=cluster, keep=True, password=state.pg_password or None).start()
    state.pg_port, state.pg_password = server.port, server.password
    state.pg_directory, state.pg_pid = str(server.directory), server.server_pid()
    state.save()
    if not restarting:
        server.create_database(INSTANCE_DATABASE)
        if aiops_demo:
            from ..db.demo_data import load_demo_rows

            state.aiops_url = server.create_database(AIOPS_DATABASE)
            load_demo_rows(state.aiops_url)
    if state.aiops_url:
        # The port may differ from the last start; the database is the same.
        env["AIOPS_DATABASE_URL"] = server.url(AIOPS_DATABASE)
    env.update(instance_environment(server, INSTANCE_DATABASE))
    start_dagster(state, repository, env)
    return state


def _cluster_folder(directory: Path) -> Path:
    """PostgreSQL's data beside the rest of the stack, unless the server's user cannot reach it there;
    then in a folder of its own under the system's temporary folder (``down --purge`` deletes it too)."""
    if cluster_owner_can_reach(directory):
        return directory / "postgres"
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"finetune-stack-{digest}"


def down(directory: Path) -> StackState | None:
    """Stops every process the stack started; its data stays for the next ``up``."""
    directory = directory.resolve()
    if not (directory / "state.json").exists():
        return None
    state = StackState.load(directory)
    stop_processes(state)
    if state.pg_pid:
        _stop_postgres(state.pg_pid)
        state.pg_pid = 0
    state.save()
    return state


def purge_listing(directory: Path) -> dict[Path, str]:
    """What ``down --purge`` deletes: each path with what it holds."""
    state = StackState.load(directory) if (directory / "state.json").exists() else None
    cluster = Path(state.pg_directory) if state and state.pg_directory else directory / "postgres"
    parts = {
        cluster: "PostgreSQL data: Dagster's runs, events and schedules; the demo AIOps tables and their "
        "finetune_exports audit rows (with --aiops-demo)",
        directory / "home": "Dagster's home: compute logs of the runs",
        directory / "webserver.log": "the webserver's log",
        directory / "daemon.log": "the daemon's log",
        directory / "state.json": "ports, process ids and the local server's password",
    }
    return {path: what for path, what in parts.items() if path.exists()}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--port", type=int, default=3000, help="webserver port on 127.0.0.1")
    parser.add_argument("--aiops-demo", action="store_true", help="also serve the demo AIOps data from PostgreSQL")
    parser.add_argument("--purge", action="store_true", help="with down: delete the stack's folder after stopping it")
    parser.add_argument("--directory", type=Path, default=STACK_DIRECTORY)
    args = parser.parse_args(argv)
    directory = args.directory.resolve()
    if args.command == "down":
        state = down(directory)
        if state is None and not args.purge:
            print(f"no stack in {directory}")
            return 0
        if not args.purge:
            print(
                f"stopped the stack; its data stays in {directory} "
                "(`stack up` starts it again, `stack down --purge` deletes it)"
            )
            return 0
        listing = purge_listing(directory)
        print(
            "deleting:",
            *(f"  {path}  ({_size(path) / 2**20:.1f} MiB): {what}" for path, what in listing.items()),
            f"  {directory}",
            sep="\n",
        )
        for path in listing:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
        shutil.rmtree(directory, ignore_errors=True)
        print("deleted; the exports were not in it and are kept")
        return 0
    try:
        state = up(directory, args.port or free_port(), args.aiops_demo)
    except RuntimeError as error:
        print(f"stack up: {error}", file=sys.stderr)
        return 1
    print(f"Dagster UI: http://127.0.0.1:{state.port}  (instance storage: PostgreSQL on 127.0.0.1:{state.pg_port})")
    print(f"logs and state in {state.directory}; stop with: python -m finetune_assets.devtools.stack down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
