"""Training pairs, as stored between assets, back into the exact JSONL lines of the export."""

from json.encoder import encode_basestring

import pyarrow as pa
import pyarrow.compute as pc

from .pairs import INSTRUCTION, METADATA_KEYS

# Every value is a string, so a line is a fixed JSON skeleton around encoded strings: the same bytes
# as json.dumps(record, ensure_ascii=False) (jsonl.encode_line), built a column at a time.
VALUE_COLUMNS = ("input", "output", *METADATA_KEYS)
LINE_TEMPLATE = (
    '{"instruction": '
    + encode_basestring(INSTRUCTION).replace("%", "%%")
    + ', "input": %s, "output": %s, "metadata": {'
    + ", ".join(f'"{key}": %s' for key in METADATA_KEYS)
    + "}}\n"
)


def pair_lines(batch: pa.RecordBatch) -> bytes:
    """The batch's lines, keys in the order instruction, input, output, metadata, as one UTF-8 chunk."""
    if batch.num_rows and pc.any(pc.not_equal(batch.column("instruction"), INSTRUCTION)).as_py():
        raise ValueError("training pairs carry an instruction other than the fixed one")
    encoded = [map(encode_basestring, batch.column(name).to_pylist()) for name in VALUE_COLUMNS]
    return "".join(map(LINE_TEMPLATE.__mod__, zip(*encoded))).encode("utf-8")
