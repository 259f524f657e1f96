"""The rules a column at a time, held equal to their reference, row by row."""

from collections import Counter
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from finetune_assets.core.pair_columns import (
    alertname_column,
    output_column,
    taipei_iso_column,
    with_action,
    with_reasoning,
)
from finetune_assets.core.pairs import (
    action_text,
    alertname_or_incident,
    output_text,
    parse_json_text,
    reasoning_text,
)
from finetune_assets.core.pairs import taipei_iso as reference
from finetune_assets.core.staged_tables import ACTIONS_WITH_HINT, DECISIONS_WITH_HINT


def test_output_column_follows_the_row_rules():
    cases = [(r, a, ok) for r in (None, "", "思考 1") for a in (None, "", "restart") for ok in (True, False, None)]
    reasoning, action, success = (pa.array(values) for values in zip(*cases, strict=True))
    expected = [output_text(r, a, ok if a is not None else None) for r, a, ok in cases]
    assert output_column(reasoning, action, success).to_pylist() == expected


def test_taipei_iso_column_matches_the_reference():
    moments = [
        datetime(2026, 11, 8, 19, 0, tzinfo=timezone.utc),
        datetime(2026, 11, 8, 16, 0, 0, 250000, tzinfo=timezone.utc),
        datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        datetime(1979, 7, 1, tzinfo=timezone.utc),
    ]
    column = pa.array(moments, pa.timestamp("us", tz="UTC"))
    assert taipei_iso_column(column).to_pylist() == [reference(moment) for moment in moments]
    # Since 1980 one offset, written without looking the zone up; and with a null among the values.
    modern = [
        *moments[:3],
        datetime(1980, 1, 1, tzinfo=timezone.utc),
        datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
    ]
    got = taipei_iso_column(pa.array([*modern, None], pa.timestamp("us", tz="UTC"))).to_pylist()
    assert got == [*(reference(moment) for moment in modern), None]


# (raw JSON text as the database hands it, the database's hint for the common case)
DOCUMENTS = [
    ('{"reasoning": "OOM", "decision": "x"}', "OOM"),
    ('{"reasoning": " ", "decision": "scale"}', " "),
    ('{"reasoning": 7}', None),
    ('{"decision": {"a": 1}}', None),
    ('"plain text"', None),
    ("[1, 2]", None),
    ("null", None),
    ("{}", None),
    ("not json {", None),
    (None, None),
]
STEPS = [
    ('[{"action": "restart"}]', "restart", "pb"),
    ('[{"action": " ", "step": "cordon"}]', " ", "pb"),
    ('["rollback"]', None, "pb"),
    ('{"action": "x"}', None, "pb"),
    ("[]", None, None),
    (None, None, "  "),
]


def test_reasoning_a_column_at_a_time_is_the_reference_with_or_without_the_databases_hint():
    texts, hints = zip(*DOCUMENTS, strict=True)
    expected = [reasoning_text(parse_json_text(text, Counter())) for text in texts]
    for given in (hints, [None] * len(hints)):
        batch = pa.RecordBatch.from_pydict(
            {
                "incident_id": ["i"] * len(texts),
                "session_id": ["s"] * len(texts),
                "output_json": list(texts),
                "created_at": [None] * len(texts),
                "reasoning_hint": list(given),
            },
            schema=DECISIONS_WITH_HINT,
        )
        counts = Counter()
        [derived] = with_reasoning(iter([batch]), counts)
        assert derived.column("reasoning").to_pylist() == expected
        assert "reasoning_hint" not in derived.schema.names and counts["unparseable_json"] == 1


def test_action_a_column_at_a_time_is_the_reference_with_or_without_the_databases_hint():
    texts, hints, playbooks = zip(*STEPS, strict=True)
    expected = [
        action_text(parse_json_text(text, Counter()), playbook) for text, playbook in zip(texts, playbooks, strict=True)
    ]
    for given in (hints, [None] * len(hints)):
        batch = pa.RecordBatch.from_pydict(
            {
                "incident_id": ["i"] * len(texts),
                "execution_id": ["e"] * len(texts),
                "playbook_name": list(playbooks),
                "executed_steps": list(texts),
                "success": [True] * len(texts),
                "created_at": [None] * len(texts),
                "action_hint": list(given),
            },
            schema=ACTIONS_WITH_HINT,
        )
        [derived] = with_action(iter([batch]), Counter())
        assert derived.column("action").to_pylist() == expected


@pytest.mark.parametrize(
    "alertname, incident, expected", [("Disk", "INC-1", "Disk"), ("  ", "INC-2", "INC-2"), (None, "INC-3", "INC-3")]
)
def test_alertname_column_is_the_reference(alertname, incident, expected):
    assert alertname_or_incident(alertname, incident) == expected
    assert alertname_column(pa.array([alertname], pa.string()), pa.array([incident])).to_pylist() == [expected]
