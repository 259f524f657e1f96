"""Registered weekly exports for the corpus benchmark, written by the pipeline's own writer and
registered by its own registry code, without running the extraction for each week.

Each week has ``pairs`` pairs of about a kilobyte, of the kinds that make near-duplicate detection
earn its name:
- incident templates with 1 to 8 more variable parts (a host, a count, an id, a state word) besides
  the host, pod and count of each (near duplicates across and within weeks, from identical after
  normalizing to borderline);
- Chinese templates written without spaces, and short one-line alerts, with variable parts;
- earlier pairs edited 1 to 3 words at a time (borderline similarities, and chains as edits pile up);
- unique pairs, and one in twenty repeating a pair of an earlier week word for word (exact duplicates).
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
# Shares of a week's pairs, in this order; the rest are unique.
SHARES = {"repeated": 0.05, "templated": 0.50, "chinese": 0.05, "short": 0.05, "edited": 0.15}
# Words without digits (a digit makes a word a variable part) and a few Chinese ones.
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pu", "de", "go", "ha", "ji", "ko", "ly"]
WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES][:4000] + [
    "節點", "記憶體", "使用率", "升高", "告警", "重啟", "磁碟", "延遲",
]  # fmt: skip
CHINESE = [
    "節點{host}發生磁碟告警使用率達到{n}百分比請檢查容器日誌並清理未使用的映像檔以釋放空間",
    "服務{pod}重啟了{n}次記憶體使用率持續升高懷疑存在記憶體洩漏需要回滾到上一個版本",
    "資料庫{host}複製延遲{n}秒主節點的連線數已達上限請調整連線池大小並檢查慢查詢",
]
SHORT = ["disk full on {host}", "{pod} oomkilled {n} times", "certificate expired for {host}", "{host} lagging {n}s"]


def weeks_ending(last: str, count: int) -> list[str]:
    end = date.fromisoformat(last)
    return [(end - timedelta(weeks=count - 1 - n)).isoformat() for n in range(count)]


def _sentence(rng: np.random.Generator, words: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), words))


def _templates(rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """(alert, input with slots, output): 1 to 8 of a template's words vary between its instances."""
    alerts = ["DiskPressure", "HighCPUUsage", "KubePodCrashLooping", "KafkaConsumerLag", "MemoryLeak", "HTTP5xxSpike"]
    templates = []
    for t in range(TEMPLATES):
        words = _sentence(rng, 110).split()
        for position in rng.choice(len(words), int(rng.integers(1, 9)), replace=False):
            words[position] = "{word}"
        templates.append(
            (
                alerts[t % len(alerts)],
                f"[{alerts[t % len(alerts)]}] node {{host}} pod {{pod}} restarted {{n}} times; " + " ".join(words),
                "[AI 決策]\n" + _sentence(rng, 30) + f"\n\n[執行動作]\nplaybook-{t}\n\n[執行結果] 成功",
            )
        )
    return templates


STATES = ["failed", "degraded", "recovered", "flapping"]
HOSTS = ["worker", "web", "db", "cache", "api", "edge"]


def _variable(rng: np.random.Generator) -> str:
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return f"{HOSTS[int(rng.integers(0, len(HOSTS)))]}-{rng.integers(0, 500)}"
    if kind == 1:
        return str(rng.integers(0, 100_000))
    if kind == 2:
        return f"{rng.integers(0, 2**40):010x}"
    return STATES[int(rng.integers(0, len(STATES)))]


def _filled(template: str, rng: np.random.Generator) -> str:
    parts = template.split("{word}")
    text = "".join(part + _variable(rng) for part in parts[:-1]) + parts[-1]
    return text.format(host=f"worker-{rng.integers(0, 5000)}", pod=f"api-{rng.integers(0, 9999):x}",
                       n=int(rng.integers(1, 40)))  # fmt: skip


def _edited(text: str, rng: np.random.Generator) -> str:
    words = text.split(" ")
    for position in rng.integers(0, len(words), int(rng.integers(1, 4))):
        words[position] = WORDS[int(rng.integers(0, len(WORDS)))]
    return " ".join(words)


def week_pairs(week: str, pairs: int, earlier: list[dict], rng: np.random.Generator, templates) -> pa.Table:
    rows = []
    bounds = np.cumsum(list(SHARES.values()))
    kinds = [list(SHARES)[i] if i < len(SHARES) else "unique" for i in np.searchsorted(bounds, rng.random(pairs))]
    for n, kind in enumerate(kinds):
        evidence = hashlib.md5(f"{week}-{n}".encode()).hexdigest()
        if kind in ("repeated", "edited") and earlier:
            base = earlier[int(rng.integers(0, len(earlier)))]
            text, output, alert = base["input"], base["output"], base["alertname"]
            if kind == "edited":
                text = _edited(text, rng)
        elif kind == "templated":
            alert, template, output = templates[int(rng.integers(0, TEMPLATES))]
            text = _filled(template, rng)
        elif kind in ("chinese", "short"):
            choices = CHINESE if kind == "chinese" else SHORT
            index = int(rng.integers(0, len(choices)))
            alert, output = f"{kind.title()}{index}", f"[執行動作]\nplaybook-{kind}-{index}\n\n[執行結果] 成功"
            text = _filled(choices[index], rng)
        else:
            alert = f"Unique{int(rng.integers(0, 200))}"
            text, output = _sentence(rng, 120), "[AI 決策]\n" + _sentence(rng, 30) + "\n\n[執行結果] 成功"
        rows.append({"input": text, "output": output, "alertname": alert, "evidence_id": evidence})
    # Unique and edited pairs are what later weeks repeat and edit again (edits pile up into chains).
    earlier.extend(row for row, kind in zip(rows, kinds, strict=True) if kind in ("unique", "edited"))
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
