"""The training-pair rules, one case per rule."""

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from finetune_assets.core.pairs import (
    INSTRUCTION,
    Evidence,
    Repair,
    action_text,
    build_pair,
    output_text,
    pair_metadata,
    parse_json_text,
    reasoning_text,
    repair_parts,
)

LONG_OBJECT = {"notes": "x" * 600}


@pytest.mark.parametrize(
    ("output_json", "expected"),
    [
        ({"reasoning": "OOM 導致重啟", "decision": "restart"}, "OOM 導致重啟"),
        ({"reasoning": "", "decision": "scale out"}, "scale out"),
        ({"reasoning": None, "decision": "scale out"}, "scale out"),
        ({"reasoning": "   ", "decision": "scale out"}, "scale out"),
        ({"reasoning": {"why": "cpu"}}, '{"why": "cpu"}'),
        ({"decision": {"action": "重啟", "n": 2}}, '{"action": "重啟", "n": 2}'),
        ({"reasoning": 0}, "0"),
        ({"reasoning": False, "decision": "x"}, "false"),
        ({"reasoning": [], "decision": ["a", 1]}, '["a", 1]'),
        ({"summary": "沒有推理"}, '{"summary": "沒有推理"}'),
        (LONG_OBJECT, ('{"notes": "' + "x" * 600 + '"}')[:500]),
        ("直接的推理文字", "直接的推理文字"),
        ("  padded  ", "  padded  "),
        (["step one", "step two"], '["step one", "step two"]'),
        (42, "42"),
        (True, "true"),
        (None, None),
        ({}, None),
        ([], None),
        ("", None),
        (" \n\t ", None),
    ],
)
def test_reasoning_text(output_json, expected):
    assert reasoning_text(output_json) == expected


def test_reasoning_fallback_is_cut_to_500_characters():
    assert len(reasoning_text(LONG_OBJECT)) == 500
    assert len(reasoning_text(["y" * 1000])) == 500


@pytest.mark.parametrize(
    ("steps", "playbook", "expected"),
    [
        ([{"action": "restart_pod"}, {"action": "verify"}], "pb", "restart_pod"),
        ([{"action": "", "step": "drain node"}], "pb", "drain node"),
        ([{"step": "rotate logs"}], "pb", "rotate logs"),
        ([{"action": {"cmd": "kubectl rollout restart"}}], "pb", '{"cmd": "kubectl rollout restart"}'),
        ([{"other": "x"}], "pb-fallback", "pb-fallback"),
        (["擴充連線池", "verify"], "pb", "擴充連線池"),
        (["   "], "pb-blank-step", "pb-blank-step"),
        ([1, 2, 3], "pb-numbers", "pb-numbers"),
        ([], "pb-empty", "pb-empty"),
        (None, "pb-null", "pb-null"),
        ({"action": "not a list"}, "pb-object", "pb-object"),
        (None, None, "未知"),
        (None, "  ", "未知"),
        ([{"action": None}], None, "未知"),
    ],
)
def test_action_text(steps, playbook, expected):
    assert action_text(steps, playbook) == expected


@pytest.mark.parametrize(
    ("output_json", "repair", "expected"),
    [
        (
            {"reasoning": "根因是 OOM"},
            Repair("pb", [{"action": "restart_pod"}], True),
            "[AI 決策]\n根因是 OOM\n\n[執行動作]\nrestart_pod\n\n[執行結果] 成功",
        ),
        (None, Repair("pb-scale", None, False), "[執行動作]\npb-scale\n\n[執行結果] 失敗"),
        ({"reasoning": "only reasoning"}, None, "[AI 決策]\nonly reasoning"),
        ({}, Repair(None, [], True), "[執行動作]\n未知\n\n[執行結果] 成功"),
        (None, None, None),
        ("", None, None),
    ],
)
def test_output_text(output_json, repair, expected):
    assert output_text(reasoning_text(output_json), *repair_parts(repair)) == expected


def _evidence(**overrides) -> Evidence:
    values = dict(
        id="0b9d7a0e-0000-4000-8000-000000000001",
        incident_id="INC-1",
        summary="  CPU 97% on node-17\n",
        collected_at=datetime(2026, 11, 8, 19, 0, tzinfo=timezone.utc),
        schema_version="v2",
        matched_playbook_id="pb-cpu",
        alertname="HighCPUUsage",
    )
    return Evidence(**{**values, **overrides})


def test_build_pair_has_the_four_keys_in_order_and_trims_the_input():
    pair = build_pair(_evidence(), {"reasoning": "r"}, None)
    assert list(pair) == ["instruction", "input", "output", "metadata"]
    assert pair["instruction"] == INSTRUCTION
    assert pair["input"] == "CPU 97% on node-17"


def test_build_pair_without_any_output_part_is_skipped():
    assert build_pair(_evidence(), {}, None) is None


def test_metadata_keys_types_and_taipei_offset():
    metadata = pair_metadata(_evidence())
    assert metadata == {
        "evidence_id": "0b9d7a0e-0000-4000-8000-000000000001",
        "incident_id": "INC-1",
        "alertname": "HighCPUUsage",
        "verification_result": "success",
        "collected_at": "2026-11-09T03:00:00.000000+08:00",
        "schema_version": "v2",
        "matched_playbook_id": "pb-cpu",
    }


@pytest.mark.parametrize("alertname", [None, "", "   "])
def test_alertname_falls_back_to_the_incident_id(alertname):
    assert pair_metadata(_evidence(alertname=alertname))["alertname"] == "INC-1"


def test_missing_optional_metadata_stays_a_string():
    metadata = pair_metadata(_evidence(schema_version=None, matched_playbook_id=None))
    assert metadata["schema_version"] == "" and metadata["matched_playbook_id"] == ""
    assert all(isinstance(value, str) for value in metadata.values())


def test_naive_timestamps_are_read_as_utc():
    naive = _evidence(collected_at=datetime(2026, 11, 8, 16, 0, 0, 250000))
    assert pair_metadata(naive)["collected_at"] == "2026-11-09T00:00:00.250000+08:00"


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
