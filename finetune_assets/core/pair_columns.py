"""The training-pair rules a column at a time, beside their reference in ``pairs``: the same results
(the tests compare them), computed with Arrow kernels, with Python only for the rows that need it."""

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc

from .pairs import (
    ACTION_HEADER,
    DECISION_HEADER,
    PART_SEPARATOR,
    RESULT_FAILURE,
    RESULT_SUCCESS,
    action_text,
    parse_json_text,
    reasoning_text,
)
from .staged_tables import ACTION_HINT, REASONING_HINT, STAGED_ACTIONS, STAGED_DECISIONS
from .text import non_blank, stripped

JSON_COUNTS = ("unparseable_json", "json_too_deep")


def drop_blank_summaries(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    """SQL trim() only strips spaces; a summary of other white space is blank as well."""
    for batch in batches:
        kept = batch.filter(pa.array(non_blank(batch.column("evidence_summary"))))
        counts["blank_summaries_skipped"] += batch.num_rows - kept.num_rows
        yield kept


def derived_column(batch: pa.RecordBatch, hint: str, rule: Callable[[pa.RecordBatch], list]) -> pa.Array:
    """The rule's text for each row: the database's hint where it is the answer (a non-blank JSON
    string, which the rules return as it is), else the rule applied in Python to the other rows."""
    hints = batch.column(hint)
    answered = non_blank(hints)
    if answered.all():
        return hints
    others = ~answered
    values = rule(batch.filter(pa.array(others)))
    return pc.replace_with_mask(hints, pa.array(others), pa.array(values, hints.type))


def with_reasoning(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    """Coordinator sessions with their ``pairs.reasoning_text``, the hint dropped."""
    counts.update(dict.fromkeys(JSON_COUNTS, 0))  # shown as 0, not missing

    def rule(rows: pa.RecordBatch) -> list:
        return [reasoning_text(parse_json_text(text, counts)) for text in rows.column("output_json").to_pylist()]

    for batch in batches:
        reasoning = derived_column(batch, REASONING_HINT.name, rule)
        yield batch.drop_columns([REASONING_HINT.name]).append_column(STAGED_DECISIONS.field("reasoning"), reasoning)


def with_action(batches: Iterator[pa.RecordBatch], counts: Counter) -> Iterator[pa.RecordBatch]:
    """Repair executions with their ``pairs.action_text``, the hint dropped."""
    counts.update(dict.fromkeys(JSON_COUNTS, 0))

    def rule(rows: pa.RecordBatch) -> list:
        columns = zip(rows.column("executed_steps").to_pylist(), rows.column("playbook_name").to_pylist(), strict=True)
        return [action_text(parse_json_text(steps, counts), playbook) for steps, playbook in columns]

    for batch in batches:
        action = derived_column(batch, ACTION_HINT.name, rule)
        yield batch.drop_columns([ACTION_HINT.name]).append_column(STAGED_ACTIONS.field("action"), action)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def output_column(reasoning: pa.Array, action: pa.Array, success: pa.Array) -> pa.Array:
    """``pairs.output_text``: the parts that exist, joined by one blank line; null where there is none."""
    join = pc.binary_join_element_wise
    decision = join(_text(DECISION_HEADER), reasoning.cast(pa.large_string()), _text(""))
    result = pc.if_else(pc.fill_null(success.cast(pa.bool_()), False), _text(RESULT_SUCCESS), _text(RESULT_FAILURE))
    repair = join(_text(ACTION_HEADER), action.cast(pa.large_string()), _text(PART_SEPARATOR), result, _text(""))
    # Both parts, else the one there is. (Not null_handling="skip": pyarrow 26 drops rows where every
    # part is null from its result.)
    return pc.coalesce(join(decision, repair, _text(PART_SEPARATOR)), decision, repair)


def input_column(summaries: pa.Array) -> pa.Array:
    """``build_pair``'s input: the summary as ``str.strip()`` leaves it."""
    return stripped(summaries)


def alertname_column(alertnames: pa.Array, incident_ids: pa.Array) -> pa.Array:
    """``pairs.alertname_or_incident``: the alert's name unless blank, else the incident id."""
    return pc.if_else(pa.array(non_blank(alertnames)), alertnames, incident_ids)


# Taipei has kept UTC+08:00 with no summer time since 1980; before, the time zone database decides.
FIXED_OFFSET_SINCE = datetime(1980, 1, 1, tzinfo=timezone.utc)


def taipei_iso_column(column: pa.Array) -> pa.Array:
    """``pairs.taipei_iso``: UTC timestamps as ``datetime.astimezone(TAIPEI).isoformat()`` writes them."""
    column = column.cast(pa.timestamp("us", tz="UTC"))
    earliest = pc.min(column).as_py()
    if earliest is None or earliest >= FIXED_OFFSET_SINCE:
        # Eight hours on and Arrow's own cast to text ("2026-11-09 08:00:00.000000"), ten times
        # faster than strftime, which looks the zone up for every value.
        local = pc.add(column, pa.scalar(timedelta(hours=8), pa.duration("us"))).cast(pa.timestamp("us"))
        text = pc.replace_substring(local.cast(pa.string()), pattern=" ", replacement="T", max_replacements=1)
        return pc.binary_join_element_wise(text, "+08:00", "")
    local = column.cast(pa.timestamp("us", tz="Asia/Taipei"))
    # %S of a microsecond timestamp carries its six fractional digits, zeros included.
    text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S%z")
    return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
