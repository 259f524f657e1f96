"""Reading an export back: each kind of bad line is found, with the line it is on."""

import json

import pytest

from finetune_assets.core.pairs import INSTRUCTION, METADATA_KEYS
from finetune_assets.io.export_reader import UnreadableExport, count_records, validate_alpaca_export
from finetune_assets.io.store import Store


def record(n: int, **changes) -> dict:
    line = {
        "instruction": INSTRUCTION,
        "input": f"disk {n}% on worker-{n}",
        "output": f"[執行動作]\nrotate_logs {n}\n\n[執行結果] 成功",
        "metadata": {key: f"{key}-{n}" for key in METADATA_KEYS},
    }
    line.update(changes)
    return line


def write(tmp_path, records, raw_lines=()) -> tuple[Store, str]:
    path = tmp_path / "export.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(raw_lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return Store.from_url(str(tmp_path)), str(path)


def test_a_good_file_has_no_findings(tmp_path):
    report = validate_alpaca_export(*write(tmp_path, [record(n) for n in range(50)]))
    assert report.lines == 50
    assert not report.problems and not report.secrets.found
    assert report.duplicate_evidence_ids == report.duplicate_pairs == 0
    assert report.token_summary(16_385)["over_limit"] == 0


@pytest.mark.parametrize(
    "bad, problem",
    [
        (record(1, input="   "), "input blank"),
        (record(1, output=None), "output missing or null"),
        (record(1, instruction="something else"), "instruction is not the fixed text"),
        ({k: v for k, v in record(1).items() if k != "output"}, "output missing or null"),
        (record(1, metadata={k: "x" for k in METADATA_KEYS if k != "alertname"}), "metadata.alertname missing or null"),
    ],
)
def test_structural_problems_are_counted_with_their_line(tmp_path, bad, problem):
    report = validate_alpaca_export(*write(tmp_path, [record(0), bad, record(2)]))
    assert report.problems[problem] == 1
    assert any(example.startswith(problem) for example in report.examples)


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        json.dumps({**record(1), "extra": "key"}),
        json.dumps(record(1, metadata={**record(1)["metadata"], "severity": "high"})),
        json.dumps(record(1, input=42)),
        json.dumps(record(1, metadata={**record(1)["metadata"], "schema_version": 2})),
    ],
    ids=["not-json", "fifth-key", "extra-metadata-key", "number-input", "number-in-metadata"],
)
def test_lines_that_do_not_fit_the_schema_are_caught(tmp_path, raw):
    # Either the reader refuses the block (a type that changes, a line that is not JSON) or the
    # schema it infers is not the export's (an extra key): both fail the checks.
    try:
        report = validate_alpaca_export(*write(tmp_path, [record(0)], [raw]))
    except UnreadableExport as error:
        assert "export.jsonl" in str(error)
    else:
        assert report.problems and report.examples[0].startswith(("keys are", "metadata is", "input is"))


def test_duplicates_of_ids_and_of_pairs_are_counted(tmp_path):
    same_id = record(2, metadata={**record(2)["metadata"], "evidence_id": "evidence_id-1"})
    same_pair = record(3, input=record(4)["input"], output=record(4)["output"])
    report = validate_alpaca_export(*write(tmp_path, [record(1), same_id, same_pair, record(4)]))
    assert report.duplicate_evidence_ids == 1
    assert report.duplicate_pairs == 1


def test_secrets_are_reported_by_line(tmp_path):
    report = validate_alpaca_export(*write(tmp_path, [record(1), record(2, output="db password: hunter2!")]))
    assert report.secrets.examples == ["line 2: credential_assignment"]


def test_token_lengths_estimate_ascii_and_chinese_and_count_lines_over_the_limit(tmp_path):
    records = [record(1, input="a" * 4000), record(2, input="字" * 4000), record(3)]
    summary = validate_alpaca_export(*write(tmp_path, records)).token_summary(limit=2_000)
    assert summary["over_limit"] == 1  # ~1,000 tokens of ASCII, ~6,000 of Chinese
    assert summary["max"] > 6_000 > summary["p50"]


def test_a_type_that_drifts_between_blocks_fails_the_round_trip(tmp_path):
    # The first block infers a timestamp; a later line's value no longer parses as one.
    early = [{"at": "2026-11-10T10:00:00+08:00", "pad": "x" * 2000} for _ in range(10_000)]
    late = [{"at": "2026-11-10 around ten", "pad": "x"}]
    with pytest.raises(UnreadableExport):
        count_records(*write(tmp_path, early + late))


def test_a_line_longer_than_a_block_still_loads(tmp_path):
    assert count_records(*write(tmp_path, [record(1, input="長" * 7_000_000)]))[0] == 1


def test_text_that_looks_like_dates_to_the_reader_is_still_text(tmp_path):
    records = [record(n, input=f"2026-11-{10 + n}") for n in range(5)]
    report = validate_alpaca_export(*write(tmp_path, records))
    assert report.lines == 5 and not report.problems
