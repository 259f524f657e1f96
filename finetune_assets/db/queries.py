"""Set-based source queries: a fixed number per partition, whatever the week's size."""

from datetime import datetime, timezone

from sqlalchemy import Select, Text, and_, case, cast, func, literal, null, select
from sqlalchemy.engine import Dialect

from ..core.pairs import ACTION_PATH, DECISION_ROLE, REASONING_PATH, VERIFIED
from ..core.staged_tables import ACTION_HINT, REASONING_HINT
from .schema import agent_sessions, auto_repair_executions, incident_evidence, incidents


def byte_order(column, dialect: Dialect):
    """Sorts strings by their UTF-8 bytes, as Python compares them, whatever the database collation."""
    return column.collate("BINARY" if dialect.name == "sqlite" else "C")


def db_timestamp(moment: datetime, dialect: Dialect) -> datetime:
    """SQLite keeps naive UTC text, so an aware bound would compare as local wall time."""
    utc = moment.astimezone(timezone.utc)
    return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc


def _week_filter(start: datetime, end: datetime):
    evidence = incident_evidence.c
    return and_(
        evidence.verification_result == VERIFIED,
        evidence.evidence_summary.is_not(None),
        func.trim(evidence.evidence_summary) != "",
        evidence.collected_at >= start,
        evidence.collected_at < end,
    )


def successful_evidence_query(start: datetime, end: datetime, dialect: Dialect) -> Select:
    """The week's evidence grouped by incident (for a streaming join), each row numbered in export
    order (collected_at, id), so pairs can be put back in that order without holding the week."""
    evidence = incident_evidence.c
    return (
        select(
            func.row_number().over(order_by=(evidence.collected_at, evidence.id)).label("ordinal"),
            evidence.id,
            evidence.incident_id,
            evidence.evidence_summary,
            evidence.collected_at,
            evidence.verification_result,
            evidence.schema_version,
            evidence.matched_playbook_id,
            incidents.c.signal_labels["alertname"].as_string().label("alertname"),
            # Every label, for the redactor: a secret named in any label is redacted wherever it appears.
            cast(incidents.c.signal_labels, Text).label("labels"),
        )
        .select_from(incident_evidence.outerjoin(incidents, incidents.c.id == evidence.incident_id))
        .where(_week_filter(start, end))
        .order_by(byte_order(evidence.incident_id, dialect), evidence.collected_at, evidence.id)
    )


def _has_week_evidence(table, start: datetime, end: datetime):
    """A correlated EXISTS, not ``IN (SELECT DISTINCT …)``: PostgreSQL's parallel workers then build
    one shared hash of the week's incidents instead of each scanning the evidence table for its own."""
    evidence = incident_evidence.c
    return select(evidence.id).where(evidence.incident_id == table.c.incident_id, _week_filter(start, end)).exists()


def _latest_per_incident(table, outputs, start: datetime, end: datetime, dialect: Dialect, *conditions) -> Select:
    """The newest row of ``table`` per incident of the week; ``outputs(latest)`` names the columns to
    return from it. They are computed after the ranking, so a JSON document is turned into text once
    per incident, not once per row ranked (about a second a million rows)."""
    rank = (
        func.row_number()
        .over(
            # Partitioning in the output's byte order lets the database sort once for both.
            partition_by=byte_order(table.c.incident_id, dialect),
            order_by=(table.c.created_at.desc(), table.c.id.desc()),
        )
        .label("rank")
    )
    ranked = select(table, rank).where(_has_week_evidence(table, start, end), *conditions).subquery("ranked")
    return select(*outputs(ranked.c)).where(ranked.c.rank == 1).order_by(byte_order(ranked.c.incident_id, dialect))


def json_string_at(document, path: tuple[str | int, ...], dialect: Dialect):
    """The JSON string at ``path`` (keys and list positions) of a JSON column, else NULL.

    The pair rules' common case, read by PostgreSQL from the stored jsonb, so that only the other
    rows are parsed in Python. Elsewhere (SQLite, the demo) NULL: SQLite's JSON functions fail the
    whole query on one malformed document, which the rules must count instead."""
    if dialect.name != "postgresql":
        return null()
    *parents, last = path
    for step in parents:  # -> and ->> one step at a time: COPY binds parameters as plain values
        document = document.op("->")(literal(step))
    return case((func.jsonb_typeof(document.op("->")(literal(last))) == "string", document.op("->>")(literal(last))))


def coordinator_decisions_query(start: datetime, end: datetime, dialect: Dialect) -> Select:
    def outputs(session):
        return (
            session.incident_id,
            session.id.label("session_id"),
            cast(session.output_json, Text).label("output_json"),
            session.created_at,
            json_string_at(session.output_json, REASONING_PATH, dialect).label(REASONING_HINT.name),
        )

    condition = agent_sessions.c.agent_role == DECISION_ROLE
    return _latest_per_incident(agent_sessions, outputs, start, end, dialect, condition)


def repair_actions_query(start: datetime, end: datetime, dialect: Dialect) -> Select:
    def outputs(execution):
        return (
            execution.incident_id,
            execution.id.label("execution_id"),
            execution.playbook_name,
            cast(execution.executed_steps, Text).label("executed_steps"),
            execution.success,
            execution.created_at,
            json_string_at(execution.executed_steps, ACTION_PATH, dialect).label(ACTION_HINT.name),
        )

    return _latest_per_incident(auto_repair_executions, outputs, start, end, dialect)
