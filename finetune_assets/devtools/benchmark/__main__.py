"""Benchmark: floor (PostgreSQL's own COPY export), legacy (N+1 queries) and the pipeline (the CLI).

python -m finetune_assets.devtools.benchmark                 # N = 100k, 300k, 1M
python -m finetune_assets.devtools.benchmark --sizes 100000  # one size
"""

import argparse
import hashlib
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from ..local_postgres import LocalPostgres
from .floor import export_floor
from .legacy import best_case_rows_per_second, legacy_rows_per_second
from .process_tree import run_measured
from .synthetic import generate

WEEK = "2026-11-09"
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "max_wal_size": "8GB",
    "max_parallel_workers_per_gather": "2",
}


def pipeline_command() -> list[str]:
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
        WEEK,
    ]


def run_pipeline(url: str, workdir: Path, attempt: int):
    home = workdir / f"dagster_home_{attempt}"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    exports = workdir / f"exports_{attempt}"
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(workdir),
        "AIOPS_DATABASE_URL": url,
        "FINETUNE_EXPORT_PATH": str(exports),
        "DAGSTER_HOME": str(home),
    }
    measured = run_measured(pipeline_command(), env, workdir)
    if measured.returncode != 0:
        raise RuntimeError(f"pipeline failed:\n{measured.output[-4000:]}")
    [export] = list((exports / WEEK).glob("*.jsonl"))
    data_digest, lines = hashlib.sha256(), 0
    with open(export, "rb") as handle:
        while chunk := handle.read(1 << 22):
            data_digest.update(chunk)
            lines += chunk.count(b"\n")
    shutil.rmtree(exports)
    return measured, lines, data_digest.hexdigest()


def measure(n: int, legacy_sample: int, runs: int) -> str:
    workdir = Path(tempfile.mkdtemp(prefix=f"finetune-bench-{n}-"))
    try:
        with LocalPostgres(settings=SERVER_SETTINGS) as server:
            began = time.perf_counter()
            generate(server.dsn(), n, WEEK)
            generated = time.perf_counter() - began

            floors = []
            for _ in range(runs):
                began = time.perf_counter()
                floor_lines, _ = export_floor(server.dsn(), WEEK, workdir / "floor.jsonl")
                floors.append(time.perf_counter() - began)
            legacy = legacy_rows_per_second(server.url(), WEEK, legacy_sample)
            legacy_best = best_case_rows_per_second(server.dsn(), WEEK, legacy_sample)
            pipelines = [run_pipeline(server.url(), workdir, attempt) for attempt in range(runs)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    floor_seconds = min(floors)
    best, lines, _ = min(pipelines, key=lambda run: run[0].seconds)
    peak = max(run[0].peak_rss_bytes for run in pipelines)
    identical = len({digest for _, _, digest in pipelines}) == 1
    rows_per_second = lines / best.seconds
    return (
        f"N={n:>9,} | generate {generated:6.1f} s | floor {floor_seconds:6.2f} s ({floor_lines:,} lines) | "
        f"legacy {legacy:7,.0f} rows/s (best case {legacy_best:,.0f}) | "
        f"pipeline {best.seconds:6.2f} s, {rows_per_second:9,.0f} rows/s, "
        f"peak RSS {peak / 2**20:5.0f} MiB, {lines:,} lines | "
        f"pipeline/floor time {best.seconds / floor_seconds:4.2f} | "
        f"pipeline/legacy rows/s {rows_per_second / legacy:5.1f} (vs best case {rows_per_second / legacy_best:4.1f}) | "
        f"identical bytes across runs: {'yes' if identical else 'NO'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000", help="comma-separated N values")
    parser.add_argument("--legacy-sample", type=int, default=3000, help="evidences timed with the N+1 pattern")
    parser.add_argument("--runs", type=int, default=2, help="floor and pipeline runs per size (best is shown)")
    args = parser.parse_args(argv)
    # A stopped benchmark still stops its PostgreSQL server (the with-blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for n in (int(size) for size in args.sizes.split(",")):
        print(measure(n, args.legacy_sample, args.runs), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
