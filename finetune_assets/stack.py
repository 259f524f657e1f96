"""The local production stack: PostgreSQL for the instance (and, optionally, the AIOps sources),
the Dagster webserver and the daemon, with the repository's ``dagster.yaml`` and ``workspace.yaml``.

    python -m finetune_assets.stack up [--aiops-demo] [--port 3000]
    python -m finetune_assets.stack down

Everything lives under ``.finetune_stack/``; ``down`` stops every process ``up`` started, by its id.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .local_postgres import SUPERUSER, LocalPostgres, free_port

STACK_DIRECTORY = Path(".finetune_stack")
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
    pids: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    def save(self) -> None:
        Path(self.directory, "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, directory: Path) -> "StackState":
        return cls(**json.loads((directory / "state.json").read_text()))


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    return str(beside_python) if beside_python.exists() else shutil.which(name) or name


def instance_environment(server: LocalPostgres, database: str) -> dict[str, str]:
    """The variables the repository's dagster.yaml reads."""
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
    shutil.copy(repository / "dagster.yaml", home / "dagster.yaml")
    workspace = str(repository / "workspace.yaml")
    commands = {
        "webserver": [_executable("dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(state.port)],
        "daemon": [_executable("dagster-daemon"), "run", "-w", workspace],
    }
    for name, command in commands.items():
        log = open(Path(state.directory) / f"{name}.log", "ab")
        process = subprocess.Popen(command, cwd=repository, env=env, stdout=log, stderr=log, start_new_session=True)
        state.pids[name] = process.pid
    state.save()
    wait_for_webserver(state.port)


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
    for name, pid in state.pids.items():
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


def up(directory: Path, port: int, aiops_demo: bool) -> StackState:
    directory = directory.resolve()
    if (directory / "state.json").exists():
        raise RuntimeError(f"a stack is already up in {directory}: run `python -m finetune_assets.stack down` first")
    directory.mkdir(parents=True, exist_ok=True)
    server = LocalPostgres(directory=directory / "postgres").start()
    server.create_database(INSTANCE_DATABASE)
    state = StackState(str(directory), port, server.port, server.password, str(server.directory), server.server_pid())
    state.save()
    env = {**os.environ, **instance_environment(server, INSTANCE_DATABASE), "DAGSTER_HOME": str(directory / "home")}
    env.setdefault("FINETUNE_EXPORT_PATH", str(directory / "exports"))
    if aiops_demo:
        from .demo import load_demo_rows

        env["AIOPS_DATABASE_URL"] = server.create_database(AIOPS_DATABASE)
        load_demo_rows(env["AIOPS_DATABASE_URL"])
    start_dagster(state, Path.cwd(), env)
    return state


def down(directory: Path) -> None:
    directory = directory.resolve()
    if not (directory / "state.json").exists():
        print(f"no stack is up in {directory}")
        return
    state = StackState.load(directory)
    stop_processes(state)
    if state.pg_pid:
        try:
            os.kill(state.pg_pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{state.pg_pid}").exists():
            time.sleep(0.2)
    shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--port", type=int, default=3000, help="webserver port on 127.0.0.1")
    parser.add_argument("--aiops-demo", action="store_true", help="also serve the demo AIOps data from PostgreSQL")
    parser.add_argument("--directory", type=Path, default=STACK_DIRECTORY)
    args = parser.parse_args(argv)
    if args.command == "down":
        down(args.directory)
        return 0
    state = up(args.directory, args.port or free_port(), args.aiops_demo)
    print(f"Dagster UI: http://127.0.0.1:{state.port}  (instance storage: PostgreSQL on 127.0.0.1:{state.pg_port})")
    print(f"logs and state in {state.directory}; stop with: python -m finetune_assets.stack down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
