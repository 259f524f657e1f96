"""Building tricky AIOps weeks row by row, and running the lineage over them."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dagster import DagsterInstance, materialize
from sqlalchemy import create_engine, insert, select

from finetune_assets.core.weeks import TAIPEI
from finetune_assets.dagster_defs.resources import AiopsDatabase, CorpusPolicy, DatasetPolicy, ExportStorage
from finetune_assets.dagster_defs.staged_io import STAGED_IO, StagedParquetIOManager
from finetune_assets.db.registry import EXPORT_TYPE
from finetune_assets.db.schema import (
    agent_sessions,
    auto_repair_executions,
    finetune_exports,
    incident_evidence,
    incidents,
    source_ddl,
)
from finetune_assets.defs.assets import export, extract, transform
from finetune_assets.defs.checks import export_files, registry_rows, week_health

LINEAGE_ASSETS = [
    extract.successful_evidence,
    extract.coordinator_decisions,
    extract.repair_actions,
    transform.training_pairs,
    export.jsonl_export,
    export.export_registry,
]
ASSET_CHECKS = [export_files.jsonl_export_checks, registry_rows.audit_rows_match_files, week_health.week_is_usual]
ASSETS = {asset.key.to_user_string(): asset for asset in LINEAGE_ASSETS}
# The weekly assets a backfill of the whole lineage names, in lineage order.
LINEAGE_KEYS = [
    "successful_evidence",
    "coordinator_decisions",
    "repair_actions",
    "training_pairs",
    "jsonl_export",
    "export_registry",
]
WEEK = "2026-11-09"
WEEK_START = datetime(2026, 11, 9, tzinfo=TAIPEI)


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    return WEEK_START + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Week:
    """Rows to insert; ``add_*`` return the id they used."""

    url: str
    rows: dict = field(default_factory=lambda: {t: [] for t in ("incidents", "evidence", "sessions", "executions")})

    def incident(self, incident_id: str, labels=None) -> str:
        self.rows["incidents"].append({"id": incident_id, "signal_labels": labels})
        return incident_id

    def evidence(
        self,
        incident_id,
        summary,
        collected_at,
        result="success",
        evidence_id=None,
        schema_version="v1",
        playbook_id="pb-restart",
    ) -> str:
        evidence_id = evidence_id or new_id()
        self.rows["evidence"].append(
            {
                "id": evidence_id,
                "incident_id": incident_id,
                "verification_result": result,
                "evidence_summary": summary,
                "collected_at": collected_at,
                "schema_version": schema_version,
                "matched_playbook_id": playbook_id,
            }
        )
        return evidence_id

    def session(self, incident_id, output_json, created_at, role="coordinator", session_id=None) -> str:
        session_id = session_id or new_id()
        self.rows["sessions"].append(
            {
                "id": session_id,
                "incident_id": incident_id,
                "agent_role": role,
                "output_json": output_json,
                "created_at": created_at,
            }
        )
        return session_id

    def execution(self, incident_id, steps, created_at, success=True, playbook="pb-restart", execution_id=None):
        execution_id = execution_id or new_id()
        self.rows["executions"].append(
            {
                "id": execution_id,
                "incident_id": incident_id,
                "playbook_name": playbook,
                "executed_steps": steps,
                "success": success,
                "created_at": created_at,
            }
        )
        return execution_id

    def save(self) -> None:
        engine = create_engine(self.url)
        tables = {
            "incidents": incidents,
            "evidence": incident_evidence,
            "sessions": agent_sessions,
            "executions": auto_repair_executions,
        }
        with engine.begin() as connection:
            for name, table in tables.items():
                rows = [_portable(row, engine.dialect.name) for row in self.rows[name]]
                if rows:
                    connection.execute(insert(table), rows)
        engine.dispose()


def source_database(server, name: str) -> str:
    """A new database on ``server`` holding the empty source tables; its URL."""
    url = server.create_database(name)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(source_ddl())
    engine.dispose()
    return url


def _portable(row: dict, dialect: str) -> dict:
    """SQLite stores naive UTC timestamps (the demo convention)."""
    if dialect != "sqlite":
        return row
    return {
        key: value.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def local_storage(export_path: Path) -> ExportStorage:
    """Exports in ``export_path``; the runs' staging in a folder of the test's own beside it, outside it."""
    export_path = Path(export_path)
    return ExportStorage(export_path=str(export_path), staging_path=str(staging_of(export_path)))


def staging_of(export_path: Path) -> Path:
    return Path(export_path).with_name(f"{Path(export_path).name}-staging")


def resources(database_url: str, export_path: Path | ExportStorage, policy: DatasetPolicy | None = None) -> dict:
    """``export_path``: a local folder, or an ExportStorage (an object store, say)."""
    storage = export_path if isinstance(export_path, ExportStorage) else local_storage(export_path)
    return {
        "aiops_db": AiopsDatabase(url=database_url),
        "export_storage": storage,
        STAGED_IO: StagedParquetIOManager(export_storage=storage),
        "dataset_policy": policy or DatasetPolicy(),
        "corpus_policy": CorpusPolicy(),
    }


def materialize_week(
    database_url: str, export_path: Path, week: str = WEEK, instance=None, raise_on_error=True, policy=None
):
    return materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS],
        partition_key=week,
        resources=resources(database_url, export_path, policy),
        instance=instance or DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


def export_files(export_path: Path, week: str = WEEK) -> list[Path]:
    """The week's snapshots published in the tree trainers read."""
    return sorted((Path(export_path) / week).glob("*.jsonl"))


def pending_files(export_path: Path, week: str = WEEK) -> list[Path]:
    """The week's snapshots written and not (yet) published: in the staging store, where the checks read them."""
    return sorted((staging_of(export_path) / "pending" / week).glob("*.jsonl"))


def read_lines(path: Path) -> list[dict]:
    # Split on "\n" only: str.splitlines() would also break lines at U+2028 inside a string.
    return [json.loads(line) for line in path.read_bytes().decode("utf-8").split("\n") if line]


def audit_rows(database_url: str, export_type: str | None = EXPORT_TYPE) -> list[dict]:
    """Audit rows in insertion order: the snapshots' by default, every file's with ``export_type=None``."""
    engine = create_engine(database_url)
    query = select(finetune_exports).order_by(finetune_exports.c.id)
    if export_type is not None:
        query = query.where(finetune_exports.c.export_type == export_type)
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "finetune_exports"):
                return []
            rows = connection.execute(query).mappings().all()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def materialization_metadata(result, asset_name: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == asset_name:
            return {key: value.value for key, value in event.step_materialization_data.materialization.metadata.items()}
    raise KeyError(asset_name)


def small_week(url: str) -> list[str]:
    week = Week(url)
    ids = []
    for n in range(3):
        incident = week.incident(f"INC-{n}", {"alertname": f"Alert{n}"})
        ids.append(week.evidence(incident, f"disk 9{n}% on worker-{n}，清理日誌", at(days=1, hours=n)))
        week.execution(incident, [{"action": "rotate_logs"}], at(days=1, hours=n))
    week.save()
    return ids
