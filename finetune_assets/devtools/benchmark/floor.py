"""The physical floor: PostgreSQL builds the JSON lines itself in one query and streams them with COPY.

The latest coordinator session and repair execution of each incident can be picked in several
one-query forms, and which is fastest depends on the planner and the data. The benchmark runs each
and takes the fastest as the floor of that run, so the pipeline is never compared with a slowed one.
"""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ...core.pairs import (
    ACTION_HEADER,
    ACTION_KEYS,
    DECISION_HEADER,
    DECISION_ROLE,
    FALLBACK_TEXT_LIMIT,
    INSTRUCTION,
    PART_SEPARATOR,
    REASONING_KEYS,
    RESULT_FAILURE,
    RESULT_SUCCESS,
    UNKNOWN_ACTION,
    VERIFIED,
)
from ...core.weeks import TAIPEI, week_window

WEEK_FILTER = """
    e.verification_result = %(verified)s AND btrim(e.evidence_summary) <> ''
    AND e.collected_at >= %(start)s AND e.collected_at < %(end)s"""

DECISION_COLUMNS = "s.incident_id, s.output_json"
ACTION_COLUMNS = "x.incident_id, x.playbook_name, x.executed_steps, x.success"
DECISION_ORDER = "s.created_at DESC, s.id DESC"
ACTION_ORDER = "x.created_at DESC, x.id DESC"


def _distinct_on(week_incidents) -> str:
    """Both latest rows as DISTINCT ON subqueries; ``week_incidents(alias)`` gives what restricts a
    table to the week's incidents: a join to add to its FROM clause, and a condition."""

    def latest(columns: str, table: str, alias: str, order: str, condition: str = "") -> str:
        joined, restriction = week_incidents(alias)
        return f"""(SELECT DISTINCT ON ({alias}.incident_id) {columns} FROM {table} {alias}{joined}
        WHERE {restriction}{condition} ORDER BY {alias}.incident_id, {order})"""

    decision = latest(DECISION_COLUMNS, "agent_sessions", "s", DECISION_ORDER, " AND s.agent_role = %(role)s")
    action = latest(ACTION_COLUMNS, "auto_repair_executions", "x", ACTION_ORDER)
    return f"LEFT JOIN {decision} decision USING (incident_id) LEFT JOIN {action} action USING (incident_id)"


def _lateral() -> str:
    """One index lookup per evidence for each, the newest row kept with LIMIT 1."""
    return f"""
    LEFT JOIN LATERAL (SELECT {DECISION_COLUMNS} FROM agent_sessions s
        WHERE s.incident_id = ev.incident_id AND s.agent_role = %(role)s
        ORDER BY {DECISION_ORDER} LIMIT 1) decision ON true
    LEFT JOIN LATERAL (SELECT {ACTION_COLUMNS} FROM auto_repair_executions x
        WHERE x.incident_id = ev.incident_id ORDER BY {ACTION_ORDER} LIMIT 1) action ON true"""


FORMS = {
    "IN": _distinct_on(lambda alias: ("", f"{alias}.incident_id IN (SELECT incident_id FROM ev)")),
    "EXISTS": _distinct_on(
        lambda alias: (
            "",
            f"EXISTS (SELECT 1 FROM incident_evidence e WHERE e.incident_id = {alias}.incident_id AND{WEEK_FILTER})",
        )
    ),
    "LATERAL LIMIT 1": _lateral(),
    # An inner join with the week's incidents instead of a semi-join.
    "DISTINCT ON join": _distinct_on(
        lambda alias: (" JOIN (SELECT DISTINCT incident_id FROM ev) week USING (incident_id)", "true")
    ),
}


def floor_query(form: str) -> str:
    """The pair rules in SQL, as far as SQL states them simply (no duplicate collapsing, no redaction,
    PostgreSQL's own JSON spacing): the same joins, the same rows and about the same bytes."""
    return f"""
COPY (
WITH ev AS (
    SELECT e.id, e.incident_id, e.evidence_summary, e.collected_at, e.verification_result,
           e.schema_version, e.matched_playbook_id, i.signal_labels->>'alertname' AS alertname
    FROM incident_evidence e LEFT JOIN incidents i ON i.id = e.incident_id
    WHERE {WEEK_FILTER}
)
SELECT json_build_object(
    'instruction', %(instruction)s::text,
    'input', btrim(ev.evidence_summary),
    'output', concat_ws(%(separator)s::text,
        %(decision_header)s::text || coalesce(nullif(decision.output_json->>%(reasoning_key)s, ''),
                                   nullif(decision.output_json->>%(decision_key)s, ''),
                                   left(decision.output_json::text, %(fallback_limit)s)),
        CASE WHEN action.incident_id IS NOT NULL THEN %(action_header)s::text || coalesce(
            action.executed_steps->0->>%(action_key)s, action.executed_steps->0->>%(step_key)s,
            action.playbook_name, %(unknown)s::text) END,
        CASE WHEN action.incident_id IS NOT NULL THEN
            CASE WHEN action.success THEN %(succeeded)s::text ELSE %(failed)s::text END END),
    'metadata', json_build_object(
        'evidence_id', ev.id,
        'incident_id', ev.incident_id,
        'alertname', coalesce(nullif(btrim(ev.alertname), ''), ev.incident_id),
        'verification_result', ev.verification_result,
        'collected_at', to_char(ev.collected_at AT TIME ZONE %(zone)s, 'YYYY-MM-DD"T"HH24:MI:SS.US') || %(offset)s,
        'schema_version', coalesce(ev.schema_version, ''),
        'matched_playbook_id', coalesce(ev.matched_playbook_id, '')))::text
FROM ev {FORMS[form]}
WHERE decision.incident_id IS NOT NULL OR action.incident_id IS NOT NULL
ORDER BY ev.collected_at, ev.id
) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')
"""


def query_parameters(week: str) -> dict:
    start, end = week_window(week)
    return {
        "start": start,
        "end": end,
        "verified": VERIFIED,
        "role": DECISION_ROLE,
        "instruction": INSTRUCTION,
        "separator": PART_SEPARATOR,
        "decision_header": DECISION_HEADER,
        "reasoning_key": REASONING_KEYS[0],
        "decision_key": REASONING_KEYS[1],
        "fallback_limit": FALLBACK_TEXT_LIMIT,
        "action_header": ACTION_HEADER,
        "action_key": ACTION_KEYS[0],
        "step_key": ACTION_KEYS[1],
        "unknown": UNKNOWN_ACTION,
        "succeeded": RESULT_SUCCESS,
        "failed": RESULT_FAILURE,
        "zone": TAIPEI.key,
        "offset": start.isoformat()[-6:],
    }


@dataclass(frozen=True)
class FloorRun:
    form: str
    seconds: float
    lines: int
    sha256: str


def export_floor(dsn: str, week: str, target: Path, form: str = "EXISTS") -> FloorRun:
    """Streams the week's lines into ``target`` with one form of the query."""
    digest, lines = hashlib.sha256(), 0
    began = time.perf_counter()
    with psycopg.connect(dsn) as connection, open(target, "wb") as output:
        with connection.cursor().copy(floor_query(form), query_parameters(week)) as copy:
            for chunk in copy:
                output.write(chunk)
                digest.update(chunk)
                lines += bytes(chunk).count(b"\n")
    return FloorRun(form, time.perf_counter() - began, lines, digest.hexdigest())


def fastest_floor(dsn: str, week: str, target: Path, runs: int) -> tuple[FloorRun, list[FloorRun]]:
    """Every form ``runs`` times (interleaved, so a noisy minute hurts none of them alone); the fastest
    run, and all of them. Raises if two forms disagree on a byte: a floor must export the same lines."""
    measured = [export_floor(dsn, week, target, form) for _ in range(runs) for form in FORMS]
    if len({run.sha256 for run in measured}) != 1:
        digests = {run.form: run.sha256[:12] for run in measured}
        raise RuntimeError(f"the floor's query forms exported different lines: {digests}")
    return min(measured, key=lambda run: run.seconds), measured
