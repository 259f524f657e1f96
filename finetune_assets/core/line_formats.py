"""The exact JSONL lines of each trainer format, built from training pairs a column at a time."""

import json
from json.encoder import encode_basestring

import pyarrow as pa
import pyarrow.compute as pc

from .arrays import value_offsets
from .pairs import INSTRUCTION, METADATA_KEYS

# Every value is a string, so a line is a fixed JSON skeleton around encoded strings: the same bytes
# as json.dumps(record, ensure_ascii=False) (encode_line), built a column at a time.
ALPACA_COLUMNS = ("input", "output", *METADATA_KEYS)
CHAT_COLUMNS = ("input", "output")
_INSTRUCTION = encode_basestring(INSTRUCTION).replace("%", "%%")
# What json.dumps(..., ensure_ascii=False) escapes in a string.
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'

# Alpaca: the core export's own line (instruction, input, output, metadata).
ALPACA_TEMPLATE = (
    '{"instruction": '
    + _INSTRUCTION
    + ', "input": %s, "output": %s, "metadata": {'
    + ", ".join(f'"{key}": %s' for key in METADATA_KEYS)
    + "}}\n"
)
# OpenAI chat fine-tuning: only "messages"; the instruction is the system message.
OPENAI_CHAT_TEMPLATE = (
    '{"messages": [{"role": "system", "content": ' + _INSTRUCTION + "}, "
    '{"role": "user", "content": %s}, {"role": "assistant", "content": %s}]}\n'
)
# ShareGPT as LLaMA-Factory and Axolotl read it: human/gpt turns, the instruction as "system".
SHAREGPT_TEMPLATE = (
    '{"conversations": [{"from": "human", "value": %s}, {"from": "gpt", "value": %s}], "system": '
    + _INSTRUCTION
    + "}\n"
)
# Each format's lines as a reader must see them: every value a string, no other key.
_TEXT = pa.string()
LINE_SCHEMAS = {
    "alpaca": pa.schema(
        [
            ("instruction", _TEXT),
            ("input", _TEXT),
            ("output", _TEXT),
            ("metadata", pa.struct([(key, _TEXT) for key in METADATA_KEYS])),
        ]
    ),
    "openai_chat": pa.schema([("messages", pa.list_(pa.struct([("role", _TEXT), ("content", _TEXT)])))]),
    "sharegpt": pa.schema(
        [("conversations", pa.list_(pa.struct([("from", _TEXT), ("value", _TEXT)]))), ("system", _TEXT)]
    ),
}
FORMATS = {
    "alpaca": (ALPACA_TEMPLATE, ALPACA_COLUMNS),
    "openai_chat": (OPENAI_CHAT_TEMPLATE, CHAT_COLUMNS),
    "sharegpt": (SHAREGPT_TEMPLATE, CHAT_COLUMNS),
}


def encode_line(record: dict) -> bytes:
    """One record as ``json.dumps`` writes it, as a UTF-8 line: the reference the templates match."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def line_column(batch: pa.RecordBatch, trainer_format: str) -> pa.LargeStringArray:
    """The batch's lines in one trainer format (each ending with a newline) as an Arrow column: built
    once, after which the snapshot, each split side and their hashes take bytes from its buffer with no
    Python copy. The skeleton is joined around the encoded strings by Arrow."""
    if batch.num_rows and pc.any(pc.not_equal(batch.column("instruction"), INSTRUCTION)).as_py():
        raise ValueError("training pairs carry an instruction other than the fixed one")
    template, columns = FORMATS[trainer_format]
    pieces = [_text(piece.replace("%%", "%")) for piece in template.split("%s")]
    parts = [pieces[0]]
    for name, piece in zip(columns, pieces[1:], strict=True):
        parts += [json_strings(batch.column(name)), piece]
    return pc.binary_join_element_wise(*parts, _text(""))


def json_strings(column: pa.Array) -> pa.LargeStringArray:
    """Each value as ``json.dumps(value, ensure_ascii=False)`` writes it, quotes included. Only a value
    holding a quote, a backslash or a control character goes through Python's encoder; the others
    are quoted by Arrow."""
    column = column.cast(pa.large_string())
    quote = _text('"')
    quoted = pc.binary_join_element_wise(quote, column, quote, _text(""))
    # A null goes to the encoder too, which refuses it as json.dumps would refuse the line.
    escaped = pc.match_substring_regex(column, pattern=_NEEDS_ESCAPE).fill_null(True)
    if not pc.any(escaped).as_py():
        return quoted
    rows = column.filter(escaped).to_pylist()
    return pc.replace_with_mask(quoted, escaped, pa.array(list(map(encode_basestring, rows)), pa.large_string()))


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def line_bytes(lines: pa.LargeStringArray) -> pa.Buffer:
    """The column's lines back to back: a view of its value buffer, not a copy."""
    if not len(lines):
        return pa.py_buffer(b"")
    offsets = value_offsets(lines)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
