"""Benchmark: the floor (PostgreSQL's own one-query export, fastest of its forms), the legacy pattern
(N+1 queries) and the pipeline (the CLI), on one synthetic database per size; then an empty week.

python -m finetune_assets.devtools.benchmark                 # N = 100k, 300k, 1M: the README's table
python -m finetune_assets.devtools.benchmark --sizes 100000  # one size
python -m finetune_assets.devtools.benchmark --corpus        # the corpus: 52 weeks x 20k pairs
python -m finetune_assets.devtools.benchmark --corpus --weeks 13,52,104   # and how a week added grows

Prints a Markdown table, the details of each size and a verdict on each target; exits 1 if a target
measured in this run was missed.
"""

import argparse
import shutil
import signal
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ..local_postgres import LocalPostgres
from .corpus_report import flatness, measure_corpus, measure_quality
from .corpus_report import table as corpus_table
from .floor import fastest_floor
from .legacy import best_case_rows_per_second, legacy_rows_per_second
from .pipeline import PipelineRun, run_pipeline
from .report import SizeResult, details, step_list, table, verdict_lines, verdicts
from .synthetic import generate

WEEK = "2026-11-09"
# Nothing is generated after the measured week: the week that follows it is empty.
EMPTY_WEEK = (date.fromisoformat(WEEK) + timedelta(days=7)).isoformat()
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "max_wal_size": "8GB",
    "max_parallel_workers_per_gather": "2",
}


def measure(n: int, legacy_sample: int, runs: int, empty_week: bool) -> tuple[SizeResult, PipelineRun | None]:
    workdir = Path(tempfile.mkdtemp(prefix=f"finetune-bench-{n}-"))
    try:
        with LocalPostgres(settings=SERVER_SETTINGS) as server:
            began = time.perf_counter()
            generate(server.dsn(), n, WEEK)
            print(f"N={n:,}: generated in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
            floor, floors = fastest_floor(server.dsn(), WEEK, workdir / "floor.jsonl", runs)
            (workdir / "floor.jsonl").unlink()
            legacy = legacy_rows_per_second(server.url(), WEEK, legacy_sample)
            legacy_best = best_case_rows_per_second(server.dsn(), WEEK, legacy_sample)
            pipelines = [run_pipeline(server.url(), workdir, WEEK) for _ in range(runs)]
            empties = [run_pipeline(server.url(), workdir, EMPTY_WEEK) for _ in range(runs if empty_week else 0)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    empty = min(empties, key=lambda run: run.measured.seconds) if empties else None
    return SizeResult(n, floor, floors, pipelines, legacy, legacy_best), empty


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000", help="comma-separated N values")
    parser.add_argument("--legacy-sample", type=int, default=3000, help="evidences timed with the N+1 pattern")
    parser.add_argument("--runs", type=int, default=2, help="runs of each floor form and of the pipeline (best counts)")
    parser.add_argument("--corpus", action="store_true", help="the training corpus across weeks instead")
    parser.add_argument("--weeks", default="52", help="corpus mode: registered weeks, comma-separated (13,52,104)")
    parser.add_argument("--pairs", type=int, default=20_000, help="corpus mode: pairs a week")
    args = parser.parse_args(argv)
    # A stopped benchmark still stops its PostgreSQL server (the with-blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.corpus:
        return corpus_main(args)
    results, empty = [], None
    for position, n in enumerate(int(size) for size in args.sizes.split(",")):
        result, measured_empty = measure(n, args.legacy_sample, args.runs, empty_week=position == 0)
        results.append(result)
        empty = measured_empty if measured_empty is not None else empty
        print(details(result), file=sys.stderr, flush=True)
    print(table(results))
    print()
    for result in results:
        print(details(result))
    empty_seconds = empty.measured.seconds if empty else None
    if empty:
        best_of = f"best of {args.runs}"
        print(f"empty week {EMPTY_WEEK}: {empty_seconds:.2f} s through the CLI ({best_of}); {step_list(empty.steps)}")
    print("targets:")
    found = verdicts(results, empty_seconds)
    print("\n".join(verdict_lines(found)))
    return 1 if any(met is False for _, met in found) else 0


def corpus_main(args) -> int:
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    quality = measure_quality()
    results = [measure_corpus(int(weeks), args.pairs, args.runs, quality, log) for weeks in args.weeks.split(",")]
    for result in results:
        print(corpus_table(result))
        print()
    print("targets:")
    found = [verdict for result in results for verdict in result.verdicts()] + flatness(results)
    print("\n".join(f"- {'met' if met else 'MISSED'}: {what}" for what, met in found))
    return 0 if all(met for _, met in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
