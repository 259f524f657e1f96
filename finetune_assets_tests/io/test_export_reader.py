"""Reading an export back: each kind of bad line is found, with the line it is on."""

import hashlib
import json

import pytest

from finetune_assets.core.export_report import ALPACA_SCHEMA, inference_problem
from finetune_assets.core.pairs import INSTRUCTION, METADATA_KEYS
from finetune_assets.io.export_reader import (
    Reading,
    UnreadableExport,
    count_records,
    read_json_lines,
    validate_alpaca_export,
)
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
    # The export's schema is explicit: a value of another type, a key outside it, a line that is not
    # JSON, each fails the read (and so the checks), wherever it is in the file.
    with pytest.raises(UnreadableExport, match="export.jsonl does not load"):
        validate_alpaca_export(*write(tmp_path, [record(0)], [raw]))


def test_duplicates_of_ids_and_of_pairs_are_counted(tmp_path):
    same_id = record(2, metadata={**record(2)["metadata"], "evidence_id": "evidence_id-1"})
    same_pair = record(3, input=record(4)["input"], output=record(4)["output"])
    report = validate_alpaca_export(*write(tmp_path, [record(1), same_id, same_pair, record(4)]))
    assert report.duplicate_evidence_ids == 1
    assert report.duplicate_pairs == 1


def test_secrets_are_reported_by_line(tmp_path):
    report = validate_alpaca_export(*write(tmp_path, [record(1), record(2, output="db password: hunter2!")]))
    assert report.secrets.examples == ["line 2 (evidence evidence_id-2): credential_assignment"]
    assert report.secrets.evidence_ids == ["evidence_id-2"]  # where, never what


def test_token_lengths_estimate_ascii_and_chinese_and_count_lines_over_the_limit(tmp_path):
    records = [record(1, input="a" * 4000), record(2, input="字" * 4000), record(3)]
    summary = validate_alpaca_export(*write(tmp_path, records)).token_summary(limit=2_000)
    assert summary["over_limit"] == 1  # ~1,000 tokens of ASCII, ~6,000 of Chinese
    assert summary["max"] > 6_000 > summary["p50"]


def test_a_value_of_another_type_pieces_later_fails_the_read(tmp_path):
    early = [record(n, input="x" * 2000) for n in range(10_000)]  # several pieces
    late = record(10_001, metadata={**record(1)["metadata"], "collected_at": 1_700_000_000})
    with pytest.raises(UnreadableExport, match="export.jsonl does not load"):
        count_records(*write(tmp_path, [*early, late]), ALPACA_SCHEMA)


def test_what_a_type_inferring_loader_would_read_is_reported(tmp_path):
    # pyarrow (and HF datasets) read "YYYY-MM-DD hh:mm:ss" as a timestamp: such a file would not
    # load together with a week whose value has another shape.
    stamped = record(1, metadata={**record(1)["metadata"], "collected_at": "2026-11-09 00:00:00"})
    lines, reading = count_records(*write(tmp_path, [stamped]), ALPACA_SCHEMA)
    assert lines == 1
    problem = inference_problem(reading.inferred, ALPACA_SCHEMA)
    assert problem.startswith("a loader that infers types reads metadata: struct<") and "timestamp[s]" in problem
    _, fine = count_records(*write(tmp_path, [record(1)]), ALPACA_SCHEMA)
    assert inference_problem(fine.inferred, ALPACA_SCHEMA) is None


def test_the_first_piece_is_parsed_by_inference_only_when_asked(tmp_path):
    """Reading a file for its lines and sha256 alone (a corpus's signatures and check) parses it once."""
    store, path = write(tmp_path, [record(n) for n in range(3)])
    plain = Reading()
    assert sum(batch.num_rows for batch in read_json_lines(store, path, ALPACA_SCHEMA, plain)) == 3
    assert plain.inferred is None and plain.sha256 is not None
    assert validate_alpaca_export(store, path).inferred == count_records(store, path, ALPACA_SCHEMA)[1].inferred
    assert validate_alpaca_export(store, path).inferred is not None


def test_the_sha256_is_of_the_bytes_read(tmp_path):
    store, path = write(tmp_path, [record(n) for n in range(3_000)])
    _, reading = count_records(store, path, ALPACA_SCHEMA)
    assert reading.sha256 == hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert validate_alpaca_export(store, path).sha256 == reading.sha256


def test_a_line_longer_than_a_block_still_loads(tmp_path):
    assert count_records(*write(tmp_path, [record(1, input="長" * 7_000_000)]), ALPACA_SCHEMA)[0] == 1


def test_text_that_looks_like_dates_to_the_reader_is_still_text(tmp_path):
    records = [record(n, input=f"2026-11-{10 + n}") for n in range(5)]
    report = validate_alpaca_export(*write(tmp_path, records))
    assert report.lines == 5 and not report.problems
