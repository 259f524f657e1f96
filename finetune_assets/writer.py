"""Training pairs, as stored between assets, back into the exact JSONL lines of each trainer format."""

from json.encoder import encode_basestring

import pyarrow as pa
import pyarrow.compute as pc

from .pairs import INSTRUCTION, METADATA_KEYS

# Every value is a string, so a line is a fixed JSON skeleton around encoded strings: the same bytes
# as json.dumps(record, ensure_ascii=False) (jsonl.encode_line), built a column at a time.
ALPACA_COLUMNS = ("input", "output", *METADATA_KEYS)
CHAT_COLUMNS = ("input", "output")
_INSTRUCTION = encode_basestring(INSTRUCTION).replace("%", "%%")

# Alpaca: the core export's own line (instruction, input, output, metadata).
ALPACA_TEMPLATE = (
    '{"instruction": ' + _INSTRUCTION + ', "input": %s, "output": %s, "metadata": {'
    + ", ".join(f'"{key}": %s' for key in METADATA_KEYS)
    + "}}\n"
)
# OpenAI chat fine-tuning: only "messages"; the instruction is the system message.
OPENAI_CHAT_TEMPLATE = (
    '{"messages": [{"role": "system", "content": ' + _INSTRUCTION + '}, '
    '{"role": "user", "content": %s}, {"role": "assistant", "content": %s}]}\n'
)
# ShareGPT as LLaMA-Factory and Axolotl read it: human/gpt turns, the instruction as "system".
SHAREGPT_TEMPLATE = (
    '{"conversations": [{"from": "human", "value": %s}, {"from": "gpt", "value": %s}], "system": '
    + _INSTRUCTION + "}\n"
)
FORMATS = {
    "alpaca": (ALPACA_TEMPLATE, ALPACA_COLUMNS),
    "openai_chat": (OPENAI_CHAT_TEMPLATE, CHAT_COLUMNS),
    "sharegpt": (SHAREGPT_TEMPLATE, CHAT_COLUMNS),
}


def format_lines(batch: pa.RecordBatch, trainer_format: str) -> list[str]:
    """The batch's lines in one trainer format, each ending with a newline."""
    if batch.num_rows and pc.any(pc.not_equal(batch.column("instruction"), INSTRUCTION)).as_py():
        raise ValueError("training pairs carry an instruction other than the fixed one")
    template, columns = FORMATS[trainer_format]
    encoded = [map(encode_basestring, batch.column(name).to_pylist()) for name in columns]
    return list(map(template.__mod__, zip(*encoded)))


def pair_lines(batch: pa.RecordBatch) -> bytes:
    """The batch's Alpaca lines, keys in the order instruction, input, output, metadata, as one UTF-8 chunk."""
    return "".join(format_lines(batch, "alpaca")).encode("utf-8")
