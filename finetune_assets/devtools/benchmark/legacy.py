"""The legacy access pattern: one query for the evidence, then two queries per evidence.

Timed two ways on the same sample: as the legacy exporter issued it (SQLAlchemy selects of whole
rows, one round trip each) and as a best case for the pattern (psycopg, prepared statements, only
the needed columns). The ratio the README quotes is against the first; the second is shown too.
"""

import time

import psycopg
from sqlalchemy import create_engine, select

from ...core.weeks import week_window
from ...db.schema import agent_sessions, auto_repair_executions, incident_evidence

EVIDENCE = """
SELECT id, incident_id, evidence_summary, collected_at, verification_result, schema_version, matched_playbook_id
FROM incident_evidence
WHERE verification_result = 'success' AND evidence_summary IS NOT NULL AND collected_at >= %s AND collected_at < %s
LIMIT %s
"""
LATEST_COORDINATOR = """
SELECT output_json FROM agent_sessions WHERE incident_id = %s AND agent_role = 'coordinator'
ORDER BY created_at DESC LIMIT 1
"""
LATEST_EXECUTION = """
SELECT playbook_name, executed_steps, success FROM auto_repair_executions WHERE incident_id = %s
ORDER BY created_at DESC LIMIT 1
"""


def legacy_rows_per_second(url: str, week: str, sample: int) -> float:
    """The legacy exporter's queries, as it wrote them, through SQLAlchemy."""
    start, end = week_window(week)
    engine = create_engine(url)
    evidence = incident_evidence.c
    try:
        with engine.connect() as connection:
            began = time.perf_counter()
            rows = connection.execute(
                select(incident_evidence)
                .where(
                    evidence.verification_result == "success",
                    evidence.evidence_summary.is_not(None),
                    evidence.collected_at >= start,
                    evidence.collected_at < end,
                )
                .limit(sample)
            ).all()
            for row in rows:
                connection.execute(
                    select(agent_sessions)
                    .where(
                        agent_sessions.c.incident_id == row.incident_id, agent_sessions.c.agent_role == "coordinator"
                    )
                    .order_by(agent_sessions.c.created_at.desc())
                    .limit(1)
                ).first()
                connection.execute(
                    select(auto_repair_executions)
                    .where(auto_repair_executions.c.incident_id == row.incident_id)
                    .order_by(auto_repair_executions.c.created_at.desc())
                    .limit(1)
                ).first()
            return len(rows) / (time.perf_counter() - began)
    finally:
        engine.dispose()


def best_case_rows_per_second(dsn: str, week: str, sample: int) -> float:
    """The same pattern at its fastest: psycopg, prepared statements, only the needed columns."""
    start, end = week_window(week)
    with psycopg.connect(dsn) as connection:
        began = time.perf_counter()
        evidences = connection.execute(EVIDENCE, (start, end, sample)).fetchall()
        for evidence in evidences:
            connection.execute(LATEST_COORDINATOR, (evidence[1],), prepare=True).fetchone()
            connection.execute(LATEST_EXECUTION, (evidence[1],), prepare=True).fetchone()
        elapsed = time.perf_counter() - began
    return len(evidences) / elapsed
