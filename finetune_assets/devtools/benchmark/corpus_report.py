"""The corpus benchmark: one run's measurements, its table and its verdict on each target."""

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ..local_postgres import LocalPostgres
from ..near_duplicate_cases import cases
from ..near_duplicate_quality import Quality, planned, quality
from .corpus_floor import CorpusFloor, corpus_floor
from .corpus_rensa import rensa_floor
from .corpus_runs import CorpusRun, build, forget_versions
from .corpus_weeks import register_weeks, week_tables, weeks_ending

MIB = 2**20
LAST_WEEK = "2026-11-16"
NEAR_RATIO, EXACT_RATIO, ADD_WEEK_SHARE = 1.5, 1.5, 0.15
# A week added is "flat" when, at the most weeks measured, it costs at most this much more than at the fewest.
FLAT_GROWTH = 1.5
PEAK_LIMIT_BYTES = 10**9
THRESHOLD, KEEP = 0.85, 3  # the defaults
QUALITY_PAIRS, QUALITY_TARGET = 40_000, 0.99


@dataclass(frozen=True)
class CorpusResult:
    weeks: int
    pairs: int
    floor: CorpusFloor  # DuckDB, exact duplicates only
    rensa: CorpusFloor  # a bare rensa MinHash + LSH script
    near: CorpusRun  # the best full build, near duplicates on
    exact: CorpusRun  # the best full build, exact duplicates only
    added: CorpusRun  # the best build after one more week is registered
    peak: int  # over every build
    quality: Quality  # the plan's near duplicates against exact Jaccard, on QUALITY_PAIRS cases

    def rows(self) -> list[tuple[str, float, str]]:
        full = self.near.measured.seconds
        return [
            ("floor: DuckDB, one statement, exact dedup", self.floor.seconds, f"{self.floor.lines:,} lines"),
            ("floor: bare rensa MinHash + LSH script", self.rensa.seconds, f"{self.rensa.lines:,} lines"),
            ("full build, near duplicates on", full, f"{self.near.lines:,} lines"),
            ("full build, exact duplicates only", self.exact.measured.seconds, f"{self.exact.lines:,} lines"),
            ("one week added to the corpus", self.added.measured.seconds, f"{self.added.lines:,} lines"),
        ]

    def verdicts(self) -> list[tuple[str, bool]]:
        full = self.near.measured.seconds
        near, exact = full / self.rensa.seconds, self.exact.measured.seconds / self.floor.seconds
        added = self.added.measured.seconds / full
        q = self.quality
        at = f"{self.weeks} weeks: "
        found = [
            (
                f"full build with near duplicates {near:.2f} x the rensa script (at most {NEAR_RATIO})",
                near <= NEAR_RATIO,
            ),
            (f"full build, exact only {exact:.2f} x the DuckDB floor (at most {EXACT_RATIO})", exact <= EXACT_RATIO),
            (f"one week added {added:.2f} x the full build (at most {ADD_WEEK_SHARE})", added <= ADD_WEEK_SHARE),
            (
                f"peak RSS {self.peak / MIB:,.0f} MiB (under {PEAK_LIMIT_BYTES / MIB:,.0f} MiB)",
                self.peak < PEAK_LIMIT_BYTES,
            ),
            (
                f"near duplicates: precision {q.precision:.2%}, recall {q.recall:.2%} against exact Jaccard, "
                f"{q.leaks} validation pair(s) with a near duplicate in train (at least {QUALITY_TARGET:.0%}, none)",
                min(q.precision, q.recall) >= QUALITY_TARGET and q.leaks == 0,
            ),
        ]
        return [(at + what, met) for what, met in found]


def flatness(results: list[CorpusResult]) -> list[tuple[str, bool]]:
    """A week added at the most weeks measured against the fewest; no verdict from one size."""
    if len(results) < 2:
        return []
    fewest, most = min(results, key=lambda r: r.weeks), max(results, key=lambda r: r.weeks)
    growth = most.added.measured.seconds / fewest.added.measured.seconds
    sizes = ", ".join(
        f"{r.weeks} weeks {r.added.measured.seconds:.2f} s" for r in sorted(results, key=lambda r: r.weeks)
    )
    what = f"one week added: {sizes}; {growth:.2f} x from {fewest.weeks} to {most.weeks} weeks (at most {FLAT_GROWTH})"
    return [(what, growth <= FLAT_GROWTH)]


def table(result: CorpusResult) -> str:
    q = result.quality
    lines = [
        f"{result.weeks} registered weeks x {result.pairs:,} pairs; peak RSS of the build's process tree "
        f"{result.peak / MIB:,.0f} MiB",
        "",
        "| measure | seconds | x DuckDB floor | output |",
        "|---|---:|---:|---|",
    ]
    for name, seconds, output in result.rows():
        lines.append(f"| {name} | {seconds:.2f} | {seconds / result.floor.seconds:.2f} | {output} |")
    lines += [
        "",
        f"Near duplicates on {QUALITY_PAIRS:,} cases (templates with variable parts, Chinese, short alerts, edit "
        f"chains, repeats), against exact Jaccard >= {THRESHOLD} on the shingles: {q.removed:,} removed, "
        f"{q.removed_rightly:,} of them rightly (precision {q.precision:.2%}); {q.went:,} of {q.should_go:,} that "
        f"should go went (recall {q.recall:.2%}); {q.similar_pairs:,} pairs at or above the threshold.",
    ]
    return "\n".join(lines)


def measure_quality() -> Quality:
    plan, sets = planned(cases(QUALITY_PAIRS, seed=11), KEEP, THRESHOLD)
    return quality(plan, sets, THRESHOLD, KEEP)


def measure_corpus(weeks: int, pairs: int, runs: int, quality: Quality, log) -> CorpusResult:
    workdir = Path(tempfile.mkdtemp(prefix="finetune-corpus-bench-"))
    try:
        return _measure(workdir, weeks, pairs, runs, quality, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(workdir: Path, weeks: int, pairs: int, runs: int, quality: Quality, log) -> CorpusResult:
    exports, staging = workdir / "exports", workdir / "staging"
    every = weeks_ending(LAST_WEEK, weeks + 1)
    with LocalPostgres() as server:
        url = server.create_database("corpus_bench")
        began = time.perf_counter()
        tables = week_tables(every, pairs)
        register_weeks(url, exports, staging, (next(tables) for _ in range(weeks)))
        log(f"{weeks} weeks x {pairs:,} pairs registered in {time.perf_counter() - began:.0f} s")
        files = sorted(exports.glob("*/finetune-*.jsonl"))
        dsn = server.dsn("corpus_bench")
        floors, scripts, exact, near = [], [], [], []
        # Interleaved, each floor beside the build it is compared with: on a machine whose speed drifts
        # by a quarter within minutes, runs minutes apart would compare the drift, not the code.
        for _ in range(runs):
            floors.append(corpus_floor(files, workdir / "floor.jsonl", 1))
            log(f"floor {floors[-1].seconds:.2f} s")
            forget_versions(dsn, exports, staging)
            exact.append(build(url, workdir, exports, staging, {"FINETUNE_CORPUS_CLUSTER_KEEP": "0"}))
            log(f"exact only {exact[-1].measured.seconds:.2f} s")
            scripts.append(rensa_floor(files, workdir / "rensa.jsonl", THRESHOLD, 1))
            log(f"rensa script {scripts[-1].seconds:.2f} s")
            forget_versions(dsn, exports, staging)
            near.append(build(url, workdir, exports, staging))
            log(f"near duplicates {near[-1].measured.seconds:.2f} s")
        floor, rensa = (min(found, key=lambda run: run.seconds) for found in (floors, scripts))
        base = near[-1].version  # the 52-week version a new week is added to
        register_weeks(url, exports, staging, tables)
        added = []
        for _ in range(runs):
            _forget_after(dsn, exports, staging, base, every[-1])
            added.append(build(url, workdir, exports, staging))
            log(f"one week added {added[-1].measured.seconds:.2f} s")
    peak = max(run.measured.peak_rss_bytes for run in [*exact, *near, *added])
    best = lambda found: min(found, key=lambda run: run.measured.seconds)  # noqa: E731
    return CorpusResult(weeks, pairs, floor, rensa, best(near), best(exact), best(added), peak, quality)


def _forget_after(dsn: str, exports: Path, staging: Path, base: str, week: str) -> None:
    """Back to the moment the week was registered: the versions after ``base`` and the week's signatures go."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        newer = connection.execute(
            "SELECT DISTINCT metadata->>'corpus_version' FROM finetune_exports WHERE export_type LIKE 'corpus_%%' "
            "AND id > (SELECT max(id) FROM finetune_exports WHERE metadata->>'corpus_version' = %s)",
            [base],
        ).fetchall()
        for (version,) in newer:
            connection.execute("DELETE FROM finetune_exports WHERE metadata->>'corpus_version' = %s", [version])
            shutil.rmtree(exports / "corpus" / version, ignore_errors=True)
    shutil.rmtree(staging / "corpus" / "signatures" / week, ignore_errors=True)
