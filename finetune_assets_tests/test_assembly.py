"""Joining a week's rows into pairs in bounded memory, and keeping the latest of each duplicate."""

import json
from collections import Counter
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from finetune_assets.redaction import Redactor
from finetune_assets.assembly import (
    Digests,
    OrdinalBuckets,
    PairStats,
    assemble_pairs,
    decision_lookup,
    pair_digest,
    parse_json_text,
    repair_lookup,
)
from finetune_assets.assets.extract import EVIDENCE_SCHEMA, STAGED_ACTIONS_SCHEMA, STAGED_DECISIONS_SCHEMA


def _evidence_batch(rows):
    """rows: (ordinal, evidence id, incident id, summary)"""
    count = len(rows)
    return pa.RecordBatch.from_pydict(
        {
            "ordinal": [row[0] for row in rows],
            "id": [row[1] for row in rows],
            "incident_id": [row[2] for row in rows],
            "evidence_summary": [row[3] for row in rows],
            "collected_at": [datetime(2026, 11, 9, tzinfo=timezone.utc)] * count,
            "verification_result": ["success"] * count,
            "schema_version": ["v1"] * count,
            "matched_playbook_id": [None] * count,
            "alertname": ["HighCPU"] * count,
        },
        schema=EVIDENCE_SCHEMA,
    )


def _decisions(pairs):
    """pairs: (incident id, reasoning)"""
    return pa.RecordBatch.from_pydict(
        {"incident_id": [p[0] for p in pairs], "session_id": ["s"] * len(pairs), "output_json": ["{}"] * len(pairs),
         "created_at": [None] * len(pairs), "reasoning": [p[1] for p in pairs]},
        schema=STAGED_DECISIONS_SCHEMA,
    )


def _repairs(incidents):
    count = len(incidents)
    return pa.RecordBatch.from_pydict(
        {"incident_id": incidents, "execution_id": ["x"] * count, "playbook_name": ["pb"] * count,
         "executed_steps": ['["restart"]'] * count, "success": [True] * count, "created_at": [None] * count,
         "action": ["restart"] * count},
        schema=STAGED_ACTIONS_SCHEMA,
    )


def test_sorted_lookup_hands_out_rows_up_to_an_incident_and_keeps_that_one():
    batches = [_decisions([("INC-1", "a"), ("INC-3", "c")]), _decisions([("INC-5", "e"), ("INC-7", "g")])]
    lookup = decision_lookup(batches)

    def through(last):
        found = lookup.through(last)
        return dict(zip(found.column("incident_id").to_pylist(), found.column("reasoning").to_pylist()))

    assert through("INC-0") == {}
    assert through("INC-4") == {"INC-1": "a", "INC-3": "c"}
    assert through("INC-5") == {"INC-5": "e"}
    assert through("INC-5") == {"INC-5": "e"}  # its evidence may go on in the next batch
    assert through("INC-9") == {"INC-5": "e", "INC-7": "g"}
    assert through("INC-9") == {}


def test_an_incident_whose_evidence_spans_two_batches_keeps_its_decision_in_both():
    evidence = [
        _evidence_batch([(1, "e1", "INC-1", "a"), (2, "e2", "INC-2", "b")]),
        _evidence_batch([(3, "e3", "INC-2", "c"), (4, "e4", "INC-3", "d")]),
    ]
    decisions = decision_lookup([_decisions([("INC-1", "r1"), ("INC-2", "r2"), ("INC-3", "r3")])])
    stats = PairStats()
    out = list(assemble_pairs(evidence, decisions, repair_lookup([]), stats, Digests.empty(), Redactor()))
    outputs = {e: o for b in out for e, o in zip(b.column("evidence_id").to_pylist(), b.column("output").to_pylist())}
    assert outputs == {"e1": "[AI 決策]\nr1", "e2": "[AI 決策]\nr2", "e3": "[AI 決策]\nr2", "e4": "[AI 決策]\nr3"}
    assert stats.skipped_no_output == 0


def test_output_column_follows_the_row_rules():
    from finetune_assets.assembly import output_column
    from finetune_assets.pairs import output_text

    cases = [(r, a, ok) for r in (None, "", "思考 1") for a in (None, "", "restart") for ok in (True, False, None)]
    reasoning, action, success = (pa.array(values) for values in zip(*cases))
    expected = [output_text(r, a, ok if a is not None else None) for r, a, ok in cases]
    assert output_column(reasoning, action, success).to_pylist() == expected


def test_assemble_joins_by_incident_counts_and_collects_digests():
    evidence = [
        _evidence_batch([(3, "e3", "INC-1", " cpu "), (1, "e1", "INC-2", "disk")]),
        _evidence_batch([(2, "e2", "INC-3", "cpu")]),
    ]
    stats, digests = PairStats(), Digests.empty()
    decisions = decision_lookup([_decisions([("INC-2", None)])])
    repairs = repair_lookup([_repairs(["INC-1"]), _repairs(["INC-3"])])
    out = list(assemble_pairs(evidence, decisions, repairs, stats, digests, Redactor()))
    assert stats.selected == 3 and stats.skipped_no_output == 1
    assert [b.column("evidence_id").to_pylist() for b in out] == [["e3"], ["e2"]]
    assert out[0].column("input").to_pylist() == ["cpu"]
    assert digests.keep_mask().tolist() == [False, False, False, True]


def test_keep_mask_keeps_the_highest_ordinal_of_each_digest():
    digests = Digests([np.array([5, 1]), np.array([3, 2, 4])], bytearray())
    for tag in [b"a", b"b", b"a", b"c", b"b"]:
        digests.digests += tag * 16
    assert np.flatnonzero(digests.keep_mask()).tolist() == [2, 4, 5]


def test_buckets_return_pairs_in_ordinal_order_with_only_the_kept(tmp_path):
    stats, digests = PairStats(), Digests.empty()
    rows = [(ordinal, f"e{ordinal}", f"INC-{ordinal % 7}", f"s{ordinal}") for ordinal in range(1, 40)]
    rows.sort(key=lambda row: row[2])
    incidents = sorted({row[2] for row in rows})
    pairs = assemble_pairs([_evidence_batch(rows)], decision_lookup([]), repair_lookup([_repairs(incidents)]), stats, digests, Redactor())
    buckets = OrdinalBuckets(tmp_path / "spill", bucket_rows=8)
    for batch in pairs:
        buckets.add(batch)
    keep = digests.keep_mask()
    keep[10] = False
    ordered = pa.Table.from_batches(list(buckets.in_order(keep)))
    expected = [f"e{n}" for n in range(1, 40) if n != 10]
    assert ordered.column("evidence_id").to_pylist() == expected
    assert "ordinal" not in ordered.column_names
    assert list((tmp_path / "spill").iterdir()) == []


def test_digest_tells_input_from_output():
    assert pair_digest(b"ab", b"c") != pair_digest(b"a", b"bc")
    assert pair_digest(b"a", b"b") == pair_digest(b"a", b"b")


def test_column_digests_are_the_pair_digests_of_the_utf8_text():
    from finetune_assets.assembly import pair_digests

    inputs, outputs = pa.array(["中文", None, "a"], pa.large_string()), pa.array(["x", "y", "b"], pa.string())
    expected = pair_digest("中文".encode(), b"x") + pair_digest(b"", b"y") + pair_digest(b"a", b"b")
    assert pair_digests(inputs, outputs) == expected


def test_taipei_iso_column_matches_the_reference():
    from finetune_assets.assembly import taipei_iso_column
    from finetune_assets.pairs import taipei_iso as reference

    moments = [
        datetime(2026, 11, 8, 19, 0, tzinfo=timezone.utc),
        datetime(2026, 11, 8, 16, 0, 0, 250000, tzinfo=timezone.utc),
        datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        datetime(1979, 7, 1, tzinfo=timezone.utc),
    ]
    column = pa.array(moments, pa.timestamp("us", tz="UTC"))
    assert taipei_iso_column(column).to_pylist() == [reference(moment) for moment in moments]


def test_json_text_that_does_not_parse_is_kept_as_text_and_counted():
    counts = Counter()
    assert parse_json_text('{"reasoning": "ok"}', counts) == {"reasoning": "ok"}
    assert parse_json_text("not json {", counts) == "not json {"
    assert parse_json_text(None, counts) is None
    assert counts["unparseable_json"] == 1


def test_large_integers_and_floats_keep_their_json_text():
    stats = Counter()
    assert parse_json_text('{"n": 123456789012345678901234567890}', stats) == {"n": 123456789012345678901234567890}
    assert parse_json_text('{"x": 1.0, "y": "中文"}', stats) == {"x": 1.0, "y": "中文"}
    assert json.dumps(parse_json_text("[1.0, 10000000000000000000001]", stats)) == "[1.0, 10000000000000000000001]"
    assert stats["unparseable_json"] == 0
