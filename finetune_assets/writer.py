"""Training pairs, as stored between assets, back into the exact JSONL lines of the export."""

import pyarrow as pa

from .jsonl import encode_line
from .pairs import METADATA_KEYS


def pair_lines(batch: pa.RecordBatch) -> list[bytes]:
    """Lines with keys in the order instruction, input, output, metadata."""
    columns = batch.to_pydict()
    lines = []
    for index in range(batch.num_rows):
        record = {
            "instruction": columns["instruction"][index],
            "input": columns["input"][index],
            "output": columns["output"][index],
            "metadata": {key: columns[key][index] for key in METADATA_KEYS},
        }
        lines.append(encode_line(record))
    return lines
