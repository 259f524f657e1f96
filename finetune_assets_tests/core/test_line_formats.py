"""The fast line writer matches json.dumps(record, ensure_ascii=False) byte for byte."""

import pyarrow as pa
import pytest

from finetune_assets.core.line_formats import encode_line, line_bytes, line_column
from finetune_assets.core.pairs import INSTRUCTION, METADATA_KEYS
from finetune_assets.core.staged_tables import PAIRS as PAIR_SCHEMA

TRICKY = [
    "plain ASCII",
    "中文 與 emoji 🚨🔥 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    'quotes " and \\ backslashes',
    "control \x00 \x01 \x1f \x7f chars\n\r\t\b\f",
    "line\u2028separator\u2029paragraph",
    "rtl \u202e override \u202c and combining e\u0301",
    "",
]


def alpaca_chunk(batch: pa.RecordBatch) -> bytes:
    """The batch's Alpaca lines as the export writes them: one column, its buffer's bytes."""
    return line_bytes(line_column(batch, "alpaca")).to_pybytes()


@pytest.mark.parametrize("text", TRICKY)
def test_lines_equal_json_dumps(text):
    row = {
        "instruction": INSTRUCTION,
        "input": text,
        "output": text[::-1],
        **{key: text + key for key in METADATA_KEYS},
    }
    batch = pa.RecordBatch.from_pylist([row], schema=PAIR_SCHEMA)
    record = {
        "instruction": INSTRUCTION,
        "input": text,
        "output": text[::-1],
        "metadata": {key: text + key for key in METADATA_KEYS},
    }
    assert alpaca_chunk(batch) == encode_line(record)


def test_a_batch_mixing_plain_and_escaped_values_equals_json_dumps_row_by_row():
    texts = [*TRICKY, "plain again", 'one " quote']
    rows = [
        {"instruction": INSTRUCTION, "input": text, "output": "ok", **{key: f"{key}-{n}" for key in METADATA_KEYS}}
        for n, text in enumerate(texts)
    ]
    records = [
        {
            "instruction": INSTRUCTION,
            "input": row["input"],
            "output": "ok",
            "metadata": {key: row[key] for key in METADATA_KEYS},
        }
        for row in rows
    ]
    assert alpaca_chunk(pa.RecordBatch.from_pylist(rows, schema=PAIR_SCHEMA)) == b"".join(map(encode_line, records))


def test_a_null_text_is_refused_not_written():
    row = {"instruction": INSTRUCTION, "input": None, "output": "ok", **{k: "" for k in METADATA_KEYS}}
    with pytest.raises(TypeError):
        alpaca_chunk(pa.RecordBatch.from_pylist([row], schema=PAIR_SCHEMA))


def test_a_batch_is_one_chunk_of_lines_in_row_order():
    rows = [
        {"instruction": INSTRUCTION, "input": f"in {n}", "output": "out %s", **{k: "" for k in METADATA_KEYS}}
        for n in range(3)
    ]
    chunk = alpaca_chunk(pa.RecordBatch.from_pylist(rows, schema=PAIR_SCHEMA))
    assert chunk.count(b"\n") == 3 and b'"input": "in 2"' in chunk.split(b"\n")[2]
    assert b'"output": "out %s"' in chunk


def test_a_foreign_instruction_is_refused():
    row = {"instruction": "other", "input": "", "output": "", **{k: "" for k in METADATA_KEYS}}
    with pytest.raises(ValueError, match="instruction"):
        alpaca_chunk(pa.RecordBatch.from_pylist([row], schema=PAIR_SCHEMA))


@pytest.mark.parametrize("text", TRICKY)
def test_trainer_formats_equal_json_dumps(text):
    row = {"instruction": INSTRUCTION, "input": text, "output": text[::-1], **{key: key for key in METADATA_KEYS}}
    batch = pa.RecordBatch.from_pylist([row], schema=PAIR_SCHEMA)
    openai_chat = {
        "messages": [
            {"role": "system", "content": INSTRUCTION},
            {"role": "user", "content": text},
            {"role": "assistant", "content": text[::-1]},
        ]
    }
    sharegpt = {
        "conversations": [{"from": "human", "value": text}, {"from": "gpt", "value": text[::-1]}],
        "system": INSTRUCTION,
    }
    assert line_column(batch, "openai_chat").to_pylist() == [encode_line(openai_chat).decode("utf-8")]
    assert line_column(batch, "sharegpt").to_pylist() == [encode_line(sharegpt).decode("utf-8")]


def test_line_bytes_are_the_lines_of_a_slice_or_a_filtered_column():
    rows = [
        {"instruction": INSTRUCTION, "input": f"輸入 {n}", "output": "out", **{k: "" for k in METADATA_KEYS}}
        for n in range(4)
    ]
    lines = line_column(pa.RecordBatch.from_pylist(rows, schema=PAIR_SCHEMA), "openai_chat")
    as_text = lines.to_pylist()

    assert line_bytes(lines.slice(1, 2)).to_pybytes() == "".join(as_text[1:3]).encode("utf-8")
    assert line_bytes(lines.filter(pa.array([True, False, False, True]))).to_pybytes() == (
        as_text[0] + as_text[3]
    ).encode("utf-8")
    assert line_bytes(lines.filter(pa.array([False] * 4))).to_pybytes() == b""
