"""The pipeline as a user runs it: the whole lineage of one week through the `dagster` CLI."""

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .process_tree import Measured, run_measured

# The instance settings a user's CLI run reads (the repository's own dagster.yaml).
PROJECT_INSTANCE = Path(__file__).resolve().parents[3] / "dagster.yaml"


@dataclass(frozen=True)
class PipelineRun:
    measured: Measured
    lines: int
    sha256: str
    steps: dict[str, float]  # step key -> seconds from its start to its success, from the event log


def pipeline_command(week: str) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [
        str(dagster if dagster.exists() else shutil.which("dagster")),
        "asset",
        "materialize",
        "-m",
        "finetune_assets.definitions",
        "--select",
        "successful_evidence*",
        "--partition",
        week,
    ]


def instance_home(workdir: Path) -> Path:
    """A Dagster home for the benchmark's runs, with the settings a user's run gets."""
    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    settings = PROJECT_INSTANCE.read_text() if PROJECT_INSTANCE.exists() else "telemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(settings)
    return home


def run_pipeline(url: str, workdir: Path, week: str) -> PipelineRun:
    """One run of the week into a fresh export folder; its wall time, peak memory and file digest."""
    exports = workdir / "exports"
    shutil.rmtree(exports, ignore_errors=True)
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(workdir),
        "AIOPS_DATABASE_URL": url,
        "FINETUNE_EXPORT_PATH": str(exports),
        "FINETUNE_STAGING_PATH": str(workdir / "staging"),
        "DAGSTER_HOME": str(instance_home(workdir)),
    }
    measured = run_measured(pipeline_command(week), env, workdir)
    if measured.returncode != 0:
        raise RuntimeError(f"pipeline failed for week {week}:\n{measured.output[-4000:]}")
    files = list((exports / week).glob("*.jsonl"))
    digest, lines = hashlib.sha256(), 0
    for export in files:
        with open(export, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
                lines += chunk.count(b"\n")
    shutil.rmtree(exports, ignore_errors=True)  # an empty week writes no folder
    return PipelineRun(measured, lines, digest.hexdigest(), step_seconds(Path(env["DAGSTER_HOME"])))


def step_seconds(home: Path) -> dict[str, float]:
    """How long each step of the instance's latest run took, in the order they started."""
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs(limit=1)
        started: dict[str, float] = {}
        took: dict[str, float] = {}
        for entry in instance.all_logs(
            run.run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
        ):
            if entry.dagster_event.event_type == DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
            else:
                took[entry.step_key] = entry.timestamp - started[entry.step_key]
    return {key: took[key] for key in started if key in took}
