"""What a newcomer has: a fresh clone of the repository, a shell without this project's variables,
the README's commands, and the Dagster webserver's GraphQL API behind the UI."""

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PROJECT_PREFIXES = ("DAGSTER_", "AIOPS_", "FINETUNE_")

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
  }
}
"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
}
"""
LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
  }
}
"""
RUN_STATUS = """
query($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { status }
  }
}
"""
LATEST_MATERIALIZATION = """
query($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset {
      assetMaterializations(limit: 1) { partition metadataEntries { label ... on TextMetadataEntry { text } } }
    }
  }
}
"""
FINISHED = {"COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED", "COMPLETED"}


def fresh_clone(destination: Path) -> Path:
    """The files a clone of the repository holds (tracked or not ignored, as they are in the working
    tree), committed in a repository of their own, so `git status` shows what a command left behind."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPOSITORY,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPOSITORY / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git = ["git", "-c", "user.name=newcomer", "-c", "user.email=newcomer@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh clone"]):
        subprocess.run([*git, *command], cwd=destination, check=True, capture_output=True)
    return destination


def git_status(clone: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout


def clean_environment(clone: Path) -> dict[str, str]:
    """This shell's environment without DAGSTER_*, AIOPS_* or FINETUNE_*, importing the clone's package
    (the test machine's editable install points at the repository the tests run from)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(PROJECT_PREFIXES)}
    return {**env, "PYTHONPATH": str(clone)}


def readme_command(starts_with: str) -> str:
    """The first line of a README code block that starts with ``starts_with``."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    found = [line for line in lines if line.startswith(starts_with)]
    assert found, f"the README shows no command starting with {starts_with!r}"
    return found[0]


def graphql(port: int, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer
    return answer["data"]


def launch_backfill(port: int, weeks: list[str], assets: list[str], title: str) -> str:
    """What the UI's "Launch backfill" sends: the weeks and the selected assets."""
    params = {"partitionNames": weeks, "assetSelection": [{"path": [name]} for name in assets], "title": title}
    launched = graphql(port, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def wait_for_backfill(port: int, backfill_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = graphql(port, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
        if status in FINISHED:
            return status
        assert time.monotonic() < deadline, f"backfill still {status} after {timeout:.0f} s"
        time.sleep(2)


def launch_week(port: int, job: str, week: str) -> str:
    """What the launchpad sends for one week of a partitioned job."""
    selector = {"repositoryLocationName": "finetune_assets", "repositoryName": "__repository__", "jobName": job}
    params = {
        "selector": selector,
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": week}]},
    }
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def launch_assets(port: int, assets: list[str], week: str) -> str:
    """What *Materialize selected* sends for one week of the selected assets (their checks included)."""
    selector = {
        "repositoryLocationName": "finetune_assets",
        "repositoryName": "__repository__",
        "jobName": "__ASSET_JOB",
        "assetSelection": [{"path": [asset]} for asset in assets],
    }
    params = {
        "selector": selector,
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": week}]},
    }
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def wait_for_run(port: int, run_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        if status in {"SUCCESS", "FAILURE", "CANCELED"}:
            return status
        assert time.monotonic() < deadline, f"run still {status} after {timeout:.0f} s"
        time.sleep(2)


def latest_materialization(port: int, asset: str) -> dict:
    """The latest materialization the UI shows for ``asset``: its partition and text metadata."""
    [latest] = graphql(port, LATEST_MATERIALIZATION, {"path": [asset]})["assetOrError"]["assetMaterializations"]
    return {"partition": latest["partition"], **{e["label"]: e.get("text") for e in latest["metadataEntries"]}}
