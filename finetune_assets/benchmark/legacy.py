"""The legacy access pattern: one query for the evidence, then two queries per evidence."""

import time

import psycopg

from ..partitions import week_window

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


def legacy_rows_per_second(dsn: str, week: str, sample: int) -> float:
    """Rows per second of the N+1 pattern over ``sample`` evidences (prepared statements: a generous baseline)."""
    start, end = week_window(week)
    with psycopg.connect(dsn) as connection:
        began = time.perf_counter()
        evidences = connection.execute(EVIDENCE, (start, end, sample)).fetchall()
        for evidence in evidences:
            connection.execute(LATEST_COORDINATOR, (evidence[1],), prepare=True).fetchone()
            connection.execute(LATEST_EXECUTION, (evidence[1],), prepare=True).fetchone()
        elapsed = time.perf_counter() - began
    return len(evidences) / elapsed
