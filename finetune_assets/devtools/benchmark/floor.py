"""The physical floor: PostgreSQL builds the JSON lines itself in one query and streams them with COPY."""

import hashlib
from pathlib import Path

import psycopg

from ...core.pairs import INSTRUCTION
from ...core.weeks import week_window

# The pair rules in SQL, as far as SQL states them simply (no duplicate collapsing, PostgreSQL's own
# JSON spacing): the same joins, the same rows and about the same bytes, as a cost reference.
FLOOR_QUERY = """
COPY (
WITH ev AS (
    SELECT e.id, e.incident_id, e.evidence_summary, e.collected_at, e.verification_result,
           e.schema_version, e.matched_playbook_id, i.signal_labels->>'alertname' AS alertname
    FROM incident_evidence e LEFT JOIN incidents i ON i.id = e.incident_id
    WHERE e.verification_result = 'success' AND btrim(e.evidence_summary) <> ''
      AND e.collected_at >= %(start)s AND e.collected_at < %(end)s
), decision AS (
    SELECT DISTINCT ON (s.incident_id) s.incident_id, s.output_json
    FROM agent_sessions s
    WHERE s.agent_role = 'coordinator' AND s.incident_id IN (SELECT incident_id FROM ev)
    ORDER BY s.incident_id, s.created_at DESC, s.id DESC
), action AS (
    SELECT DISTINCT ON (x.incident_id) x.incident_id, x.playbook_name, x.executed_steps, x.success
    FROM auto_repair_executions x
    WHERE x.incident_id IN (SELECT incident_id FROM ev)
    ORDER BY x.incident_id, x.created_at DESC, x.id DESC
)
SELECT json_build_object(
    'instruction', %(instruction)s::text,
    'input', btrim(ev.evidence_summary),
    'output', concat_ws(E'\\n\\n',
        E'[AI 決策]\\n' || coalesce(nullif(decision.output_json->>'reasoning', ''),
                                   nullif(decision.output_json->>'decision', ''),
                                   left(decision.output_json::text, 500)),
        CASE WHEN action.incident_id IS NOT NULL THEN E'[執行動作]\\n' || coalesce(
            action.executed_steps->0->>'action', action.executed_steps->0->>'step', action.playbook_name, '未知') END,
        CASE WHEN action.incident_id IS NOT NULL THEN
            CASE WHEN action.success THEN '[執行結果] 成功' ELSE '[執行結果] 失敗' END END),
    'metadata', json_build_object(
        'evidence_id', ev.id,
        'incident_id', ev.incident_id,
        'alertname', coalesce(nullif(btrim(ev.alertname), ''), ev.incident_id),
        'verification_result', ev.verification_result,
        'collected_at', to_char(ev.collected_at AT TIME ZONE 'Asia/Taipei', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+08:00',
        'schema_version', coalesce(ev.schema_version, ''),
        'matched_playbook_id', coalesce(ev.matched_playbook_id, '')))::text
FROM ev LEFT JOIN decision USING (incident_id) LEFT JOIN action USING (incident_id)
WHERE decision.incident_id IS NOT NULL OR action.incident_id IS NOT NULL
ORDER BY ev.collected_at, ev.id
) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')
"""


def export_floor(dsn: str, week: str, target: Path) -> tuple[int, str]:
    """Streams the week's lines into ``target``; returns (lines, sha256)."""
    start, end = week_window(week)
    digest, lines = hashlib.sha256(), 0
    with psycopg.connect(dsn) as connection, open(target, "wb") as output:
        with connection.cursor().copy(FLOOR_QUERY, {"start": start, "end": end, "instruction": INSTRUCTION}) as copy:
            for chunk in copy:
                output.write(chunk)
                digest.update(chunk)
                lines += bytes(chunk).count(b"\n")
    return lines, digest.hexdigest()
