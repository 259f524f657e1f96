"""Joining a week's rows into pairs batch by batch, and keeping the latest of each duplicate."""

from datetime import datetime, timezone

import pyarrow as pa

from finetune_assets.assembly import (
    PairStats,
    assemble_pairs,
    filter_batches,
    latest_of_each_duplicate,
    load_decisions,
    parse_json_text,
    pair_digest,
)
from finetune_assets.assets.extract import DECISIONS_SCHEMA, EVIDENCE_SCHEMA
from finetune_assets.pairs import Repair


def _evidence_batch(rows):
    moment = datetime(2026, 11, 9, tzinfo=timezone.utc)
    columns = {
        "id": [row[0] for row in rows],
        "incident_id": [row[1] for row in rows],
        "evidence_summary": [row[2] for row in rows],
        "collected_at": [moment] * len(rows),
        "verification_result": ["success"] * len(rows),
        "schema_version": ["v1"] * len(rows),
        "matched_playbook_id": [None] * len(rows),
        "alertname": ["HighCPU"] * len(rows),
    }
    return pa.RecordBatch.from_pydict(columns, schema=EVIDENCE_SCHEMA)


def test_latest_of_each_duplicate_keeps_the_last_occurrence():
    digests = b"".join(bytes([n]) * 16 for n in [1, 2, 1, 3, 2, 1])
    assert latest_of_each_duplicate(digests).tolist() == [False, False, False, True, True, True]


def test_digest_tells_input_from_output():
    assert pair_digest({"input": "ab", "output": "c"}) != pair_digest({"input": "a", "output": "bc"})


def test_assemble_counts_selected_and_skipped_and_collects_digests():
    batch = _evidence_batch([("e1", "INC-1", " cpu "), ("e2", "INC-2", "disk"), ("e3", "INC-3", "cpu")])
    stats, digests = PairStats(), bytearray()
    repairs = {"INC-1": Repair("pb", ["restart"], True), "INC-3": Repair("pb", ["restart"], True)}
    out = list(assemble_pairs([batch], {"INC-2": {}}, repairs, stats, digests))
    assert stats.selected == 3 and stats.skipped_no_output == 1
    assert out[0].column("evidence_id").to_pylist() == ["e1", "e3"]
    assert out[0].column("input").to_pylist() == ["cpu", "cpu"]
    keep = latest_of_each_duplicate(bytes(digests))
    assert keep.tolist() == [False, True]
    assert [b.num_rows for b in filter_batches(out, keep)] == [1]


def test_json_text_that_does_not_parse_is_kept_as_text_and_counted():
    stats = PairStats()
    assert parse_json_text('{"reasoning": "ok"}', stats) == {"reasoning": "ok"}
    assert parse_json_text("not json {", stats) == "not json {"
    assert parse_json_text(None, stats) is None
    assert stats.unparseable_json == 1


def test_load_decisions_parses_each_incident_once():
    batch = pa.RecordBatch.from_pydict(
        {"incident_id": ["INC-1"], "session_id": ["s1"], "output_json": ['"純文字"'], "created_at": [None]},
        schema=DECISIONS_SCHEMA,
    )
    assert load_decisions([batch], PairStats()) == {"INC-1": "純文字"}
