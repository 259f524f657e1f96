"""The embedded default: a SQLite AIOps database with several weeks of synthetic incidents, built on
first use; the same rows can fill a PostgreSQL database (the local stack)."""

import os
import random
import uuid
from datetime import timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert

from ..core.weeks import latest_complete_week, week_window
from .schema import SOURCE_TABLES, source_ddl

DEMO_DIRECTORY = Path(".finetune_demo")
DEMO_DATABASE = DEMO_DIRECTORY / "aiops_demo.sqlite"

# The demo's weeks start here, so the README's example week (2026-11-09) always has data, and run
# through the latest complete week (at least six weeks), so the schedule's next week has data too.
FIRST_WEEK = "2026-10-05"
MIN_WEEKS = 6
SEED = 20261109

ALERTS = [
    ("KubePodCrashLooping", "Pod payments-api-7d9f 在 namespace prod 反覆 CrashLoopBackOff，重啟 14 次，OOMKilled。"),
    ("HighCPUUsage", "node-17 CPU usage at 97% for 15 minutes; top process java (order-service), GC pauses > 2s."),
    ("DiskPressure", "節點 worker-3 磁碟使用率 93%，/var/log 佔 41 GB，logrotate 未執行。"),
    ("PostgresReplicationLag", "Replica pg-replica-2 lag 340 s behind primary; WAL sender shows network retransmits."),
    ("HTTP5xxSpike", "Ingress 5xx 比例升至 12%，上游 checkout-svc 回應逾時，連線池耗盡 (max=50)。"),
    ("CertificateExpiring", "TLS certificate for api.example.internal expires in 3 days; cert-manager renewal failed."),
    ("KafkaConsumerLag", "Consumer group billing-events lag 1.2M messages 🚨, partition 7 rebalancing loop."),
    ("MemoryLeak", "container inventory-worker RSS grows 60 MB/h，疑似快取未設上限 since deploy v2.14.0."),
    # Evidence is built from logs, and logs carry secrets: these show the redactor at work.
    (
        "DatabaseAuthFailed",
        "order-service 連線失敗：postgres://orders:Winter2026!@pg-primary.prod:5432/orders "
        "password authentication failed; DB_PASSWORD=Winter2026! 於 configmap 明文存放。",
    ),
    (
        "WebhookUnauthorized",
        "alertmanager webhook 回 401 (Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJh"
        "bGVydG1hbmFnZXIifQ.c2lnbmF0dXJl); 已通知 oncall-sre@example.com。",
    ),
]
REASONINGS = [
    "OOMKilled 與記憶體上限過低相符，先提高 limit 並重啟，再追查洩漏。",
    "CPU saturation caused by full GC; restarting the pod and raising heap relieves pressure immediately.",
    "磁碟壓力來自未輪替的日誌，執行 logrotate 並清理舊檔即可恢復。",
    "Replication lag follows network retransmits; failing the replica over to a healthy node is safest.",
    "連線池耗盡導致 5xx，擴充連線池並滾動重啟 checkout-svc。",
]
ACTIONS = ["restart_pod", "scale_deployment", "rotate_logs", "failover_replica", "renew_certificate", "擴充連線池"]
PLAYBOOKS = ["pb-restart-pod", "pb-scale-out", "pb-disk-cleanup", "pb-db-failover", None]


def _output_json(rng: random.Random):
    """The shapes coordinator sessions really take, including the unhelpful ones."""
    roll = rng.random()
    if roll < 0.55:
        return {"reasoning": rng.choice(REASONINGS), "decision": rng.choice(ACTIONS), "confidence": 0.8}
    if roll < 0.7:
        return {"decision": {"action": rng.choice(ACTIONS), "target": "prod"}}
    if roll < 0.8:
        return {"summary": "no explicit reasoning", "signals": ["cpu", "memory"]}
    if roll < 0.9:
        return rng.choice(REASONINGS)
    return rng.choice([None, {}, [], "  "])


def _executed_steps(rng: random.Random):
    roll = rng.random()
    if roll < 0.6:
        return [{"action": rng.choice(ACTIONS), "target": "prod", "ok": True}, {"action": "verify"}]
    if roll < 0.75:
        return [{"step": rng.choice(ACTIONS)}]
    if roll < 0.85:
        return [rng.choice(ACTIONS)]
    return rng.choice([[], None])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def demo_weeks(last_week: str) -> int:
    """How many weeks the demo holds when ``last_week`` is its last: back to FIRST_WEEK, at least MIN_WEEKS."""
    span = (week_window(last_week)[0] - week_window(FIRST_WEEK)[0]).days // 7 + 1
    return max(MIN_WEEKS, span)


def demo_rows(last_week: str, seed: int = SEED) -> dict[str, list[dict]]:
    """Synthetic incidents over the weeks ending with ``last_week``: mixed outcomes, duplicates,
    Chinese and English text, incidents with and without coordinator sessions or executions."""
    rng = random.Random(seed)
    rows = {table.name: [] for table in SOURCE_TABLES}
    last_start, _ = week_window(last_week)
    weeks = demo_weeks(last_week)
    previous = None
    for week_index in range(weeks):
        week_start = (last_start - timedelta(days=7 * (weeks - 1 - week_index))).astimezone(timezone.utc)
        for number in range(40 + rng.randrange(30)):
            incident_id = f"INC-{week_start:%Y%m%d}-{number:04d}"
            opened = week_start + timedelta(seconds=rng.randrange(7 * 86400 - 7200))
            if previous is not None and rng.random() < 0.12:
                # The same alert firing again and being repaired the same way: an exact duplicate pair.
                story = previous
            else:
                alertname, summary = rng.choice(ALERTS)
                story = {
                    "alertname": alertname,
                    "summary": f"[{alertname}] {summary}" if rng.random() > 0.05 else " \t ",
                    "sessions": [_output_json(rng) for _ in range(rng.randrange(1, 4))] if rng.random() < 0.85 else [],
                    "executions": [
                        (rng.choice(PLAYBOOKS), _executed_steps(rng), rng.random() < 0.85)
                        for _ in range(rng.randrange(1, 3))
                    ]
                    if rng.random() < 0.8
                    else [],
                }
            previous = story
            labels = {"alertname": story["alertname"], "severity": rng.choice(["critical", "warning"])}
            rows["incidents"].append({"id": incident_id, "signal_labels": labels if rng.random() < 0.9 else {}})
            rows["incident_evidence"].append(
                {
                    "id": _uuid(rng),
                    "incident_id": incident_id,
                    "verification_result": rng.choices(["success", "failed", "partial", None], weights=[70, 15, 10, 5])[
                        0
                    ],
                    "evidence_summary": story["summary"],
                    "collected_at": opened + timedelta(minutes=30),
                    "schema_version": rng.choice(["v1", "v2", None]),
                    "matched_playbook_id": rng.choice(PLAYBOOKS),
                }
            )
            for turn, output_json in enumerate(story["sessions"]):
                rows["agent_sessions"].append(
                    {
                        "id": _uuid(rng),
                        "incident_id": incident_id,
                        "agent_role": "coordinator" if turn == len(story["sessions"]) - 1 else "diagnoser",
                        "output_json": output_json,
                        "created_at": opened + timedelta(minutes=5 * turn),
                    }
                )
            for attempt, (playbook, steps, success) in enumerate(story["executions"]):
                rows["auto_repair_executions"].append(
                    {
                        "id": _uuid(rng),
                        "incident_id": incident_id,
                        "playbook_name": playbook,
                        "executed_steps": steps,
                        "success": success,
                        "created_at": opened + timedelta(minutes=10 + attempt),
                    }
                )
    return rows


def _insert_demo_rows(connection, last_week: str | None, naive_utc: bool) -> None:
    for table_name, rows in demo_rows(last_week or latest_complete_week()).items():
        table = next(table for table in SOURCE_TABLES if table.name == table_name)
        if naive_utc:  # SQLite keeps timestamps as naive UTC text
            for row in rows:
                for column in ("collected_at", "created_at"):
                    if column in row:
                        row[column] = row[column].astimezone(timezone.utc).replace(tzinfo=None)
        if rows:
            connection.execute(insert(table), rows)


def build_demo_database(path: Path, last_week: str | None = None) -> Path:
    """Writes the demo database to a temporary file and renames it, so concurrent steps never see half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temp_path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{temp_path}")
    try:
        with engine.begin() as connection:
            for table in SOURCE_TABLES:
                table.create(connection)
            connection.exec_driver_sql("CREATE INDEX ix_evidence_collected_at ON incident_evidence (collected_at)")
            _insert_demo_rows(connection, last_week, naive_utc=True)
    finally:
        engine.dispose()
    os.replace(temp_path, path)
    return path.resolve()


def load_demo_rows(url: str, last_week: str | None = None) -> None:
    """Creates the AIOps tables (exactly the platform's schema) in an empty PostgreSQL database and
    fills them with the demo weeks, so the stack can serve its sources from PostgreSQL too."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(source_ddl())
            _insert_demo_rows(connection, last_week, naive_utc=False)
    finally:
        engine.dispose()


def ensure_demo_database(path: Path) -> Path:
    return Path(path).resolve() if Path(path).exists() else build_demo_database(path)
