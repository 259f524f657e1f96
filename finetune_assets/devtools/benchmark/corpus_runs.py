"""The corpus as a user builds it: `dagster asset materialize --select training_corpus`, timed whole,
from nothing (no signatures, no earlier version) and after one more week is registered."""

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from .pipeline import instance_home
from .process_tree import Measured, run_measured

CORPUS_COMMAND = ["asset", "materialize", "-m", "finetune_assets.definitions", "--select", "training_corpus"]


@dataclass(frozen=True)
class CorpusRun:
    measured: Measured
    version: str
    lines: int


def _dagster() -> str:
    dagster = Path(sys.executable).with_name("dagster")
    return str(dagster if dagster.exists() else shutil.which("dagster"))


def forget_versions(dsn: str, exports: Path, staging: Path, signatures_of: list[str] | None = None) -> None:
    """Removes the registered corpus versions and their folders, and the signatures of the given weeks
    (all when None): the next build starts from what a first build would find."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("DELETE FROM finetune_exports WHERE export_type LIKE 'corpus_%'")
    shutil.rmtree(exports / "corpus", ignore_errors=True)
    signatures = staging / "corpus" / "signatures"
    for week in signatures_of if signatures_of is not None else [p.name for p in signatures.glob("*")]:
        shutil.rmtree(signatures / week, ignore_errors=True)


def build(url: str, workdir: Path, exports: Path, staging: Path, extra_env: dict | None = None) -> CorpusRun:
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(workdir),
        "AIOPS_DATABASE_URL": url,
        "FINETUNE_EXPORT_PATH": str(exports),
        "FINETUNE_STAGING_PATH": str(staging),
        "DAGSTER_HOME": str(instance_home(workdir)),
        **(extra_env or {}),
    }
    measured = run_measured([_dagster(), *CORPUS_COMMAND], env, workdir)
    if measured.returncode != 0:
        raise RuntimeError(f"the corpus build failed:\n{measured.output[-4000:]}")
    folders = sorted((exports / "corpus").iterdir(), key=lambda path: path.stat().st_mtime)
    newest = folders[-1]
    lines = sum(path.read_bytes().count(b"\n") for path in newest.glob("alpaca.*/*.jsonl"))
    return CorpusRun(measured, newest.name, lines)
