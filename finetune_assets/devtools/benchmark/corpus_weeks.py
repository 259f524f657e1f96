"""Registered weekly exports for the corpus benchmark, written by the pipeline's own writer and
registered by its own registry code, without running the extraction for each week.

Each week has ``pairs`` pairs of about a kilobyte: most from a few hundred incident templates with
another host, pod and count each time (near duplicates across and within weeks), some unique, and one
in twenty repeating a pair of an earlier week word for word (exact duplicates across weeks).
"""

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...core.dataset_card import ExportSummary
from ...core.pairs import INSTRUCTION, METADATA_KEYS
from ...core.records import ExportManifest, PairStats
from ...core.staged_tables import PAIRS
from ...db.connection import Database
from ...db.registry import audit_rows_of, record_exports
from ...io.export_writer import ExportPlan, write_export
from ...io.staging import write_batches
from ...io.store import Store

TEMPLATES = 300
TEMPLATED_SHARE, REPEATED_SHARE = 0.70, 0.05
WORDS = [f"w{n:04d}" for n in range(5000)] + ["節點", "記憶體", "使用率", "升高", "告警", "重啟", "磁碟", "延遲"]


def weeks_ending(last: str, count: int) -> list[str]:
    end = date.fromisoformat(last)
    return [(end - timedelta(weeks=count - 1 - n)).isoformat() for n in range(count)]


def _sentence(rng: np.random.Generator, words: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), words))


def _templates(rng: np.random.Generator) -> list[tuple[str, str, str]]:
    alerts = ["DiskPressure", "HighCPUUsage", "KubePodCrashLooping", "KafkaConsumerLag", "MemoryLeak", "HTTP5xxSpike"]
    return [
        (
            alerts[t % len(alerts)],
            f"[{alerts[t % len(alerts)]}] node {{host}} pod {{pod}} restarted {{n}} times; " + _sentence(rng, 110),
            "[AI 決策]\n" + _sentence(rng, 30) + f"\n\n[執行動作]\nplaybook-{t}\n\n[執行結果] 成功",
        )
        for t in range(TEMPLATES)
    ]


def week_pairs(week: str, pairs: int, earlier: list[dict], rng: np.random.Generator, templates) -> pa.Table:
    rows = []
    kinds = rng.random(pairs)
    for n in range(pairs):
        evidence = hashlib.md5(f"{week}-{n}".encode()).hexdigest()
        if kinds[n] < REPEATED_SHARE and earlier:
            base = earlier[int(rng.integers(0, len(earlier)))]
            text, output, alert = base["input"], base["output"], base["alertname"]
        elif kinds[n] < REPEATED_SHARE + TEMPLATED_SHARE:
            alert, template, output = templates[int(rng.integers(0, TEMPLATES))]
            text = template.format(host=f"worker-{rng.integers(0, 5000)}", pod=f"api-{rng.integers(0, 9999)}",
                                   n=int(rng.integers(1, 40)))  # fmt: skip
        else:
            alert = f"Unique{int(rng.integers(0, 200))}"
            text, output = _sentence(rng, 120), "[AI 決策]\n" + _sentence(rng, 30) + "\n\n[執行結果] 成功"
        rows.append({"input": text, "output": output, "alertname": alert, "evidence_id": evidence})
    earlier.extend(row for row, kind in zip(rows, kinds, strict=True) if kind >= REPEATED_SHARE + TEMPLATED_SHARE)
    columns = {
        "instruction": [INSTRUCTION] * pairs,
        "input": [row["input"] for row in rows],
        "output": [row["output"] for row in rows],
        "evidence_id": [row["evidence_id"] for row in rows],
        "incident_id": [f"INC-{row['evidence_id'][:12]}" for row in rows],
        "alertname": [row["alertname"] for row in rows],
        "verification_result": ["success"] * pairs,
        "collected_at": [f"{week}T12:00:00.000000+08:00"] * pairs,
        "schema_version": ["v1"] * pairs,
        "matched_playbook_id": ["pb"] * pairs,
    }
    assert set(columns) == {"instruction", "input", "output", *METADATA_KEYS}
    return pa.table(columns, schema=PAIRS)


def register_week(database_url: str, exports: Store, staging: Store, week: str, table: pa.Table) -> None:
    """Writes the week's export as jsonl_export does and registers it as export_registry does."""
    run_id = hashlib.md5(week.encode()).hexdigest()
    name = f"finetune-{week}-bench"
    pairs_path, ids_path = staging.path("bench", week, "pairs.parquet"), staging.path("bench", week, "ids.parquet")
    write_batches(staging, pairs_path, PAIRS, table.to_batches(max_chunksize=8192))
    stats = PairStats(selected=table.num_rows, exported=table.num_rows)
    plan = ExportPlan(["alpaca"], "alertname", 0.1)
    manifest = ExportManifest(name, week, week, week, run_id, stats, "alertname", 0.1, ("alpaca",), ids_path)

    def describe(snapshot, files):
        return ExportSummary(week, week, week, snapshot.name, snapshot.records, snapshot.sha256, stats.as_dict(),
                             "alertname", 0.1, ["alpaca"], files)  # fmt: skip

    result = write_export(staging, pairs_path, ids_path, exports, exports.path(week, f"{name}.jsonl"), plan, describe)
    manifest = replace(manifest, snapshot=result.snapshot, trainer_files=tuple(result.trainer_files))
    record_exports(Database(database_url), audit_rows_of(manifest, staging, run_id, "benchmark"))
    staging.remove_tree(staging.path("bench", week))


def week_tables(weeks: list[str], pairs: int) -> Iterator[tuple[str, pa.Table]]:
    """The weeks' pairs in order, the same on every run."""
    rng = np.random.default_rng(20261201)
    templates, earlier = _templates(rng), []
    for week in weeks:
        yield week, week_pairs(week, pairs, earlier, rng, templates)


def register_weeks(database_url: str, exports: Path, staging: Path, tables) -> None:
    export_store, staging_store = Store.from_url(str(exports)), Store.from_url(str(staging))
    for week, table in tables:
        register_week(database_url, export_store, staging_store, week, table)
