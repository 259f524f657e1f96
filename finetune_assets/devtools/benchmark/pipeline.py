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


def pipeline_command(week: str) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [
        str(dagster if dagster.exists() else shutil.which("dagster")),
        "asset",
        "materialize",
        "-m",
        "finetune_assets",
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
    return PipelineRun(measured, lines, digest.hexdigest())
