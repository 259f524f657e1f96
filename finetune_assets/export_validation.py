"""What the asset checks find in an export file as written, read back the way trainers read it.

The file is streamed through pyarrow's JSON reader (what HF `datasets`, LLaMA-Factory and Axolotl use
under the hood), a block at a time, so a million-line week is checked in bounded memory. No Dagster here.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .assembly import DIGEST_SIZE, pair_digests
from .background import prefetched
from .pairs import INSTRUCTION, METADATA_KEYS
from .secret_scan import ScanReport, scan_column
from .storage import Store

RECORD_KEYS = ("instruction", "input", "output", "metadata")
TEXT_KEYS = ("instruction", "input", "output")
# How the registry check reads evidence ids back: every value a string, no other key allowed.
ALPACA_SCHEMA = pa.schema(
    [*((key, pa.string()) for key in TEXT_KEYS), ("metadata", pa.struct([(key, pa.string()) for key in METADATA_KEYS]))]
)
# Small pieces keep the working set small: two files are read at once, and a larger piece only
# leaves more freed memory held by the allocator, at no gain in speed (measured at 4, 8 and 16 MB).
PIECE_BYTES = 4 << 20
PARSE_BLOCK_BYTES = 1 << 20  # blocks of a piece are parsed on both cores
# Offline estimate (no tokenizer download at run time): ~4 ASCII characters per token, and at most
# 1.5 tokens per other character (CJK text runs about 1-1.5 in common BPE vocabularies), plus framing.
ASCII_CHARS_PER_TOKEN = 4
TOKENS_PER_WIDE_CHAR = 1.5
TOKENS_PER_LINE = 12
EXAMPLES = 10


class UnreadableExport(Exception):
    """The file does not load as JSON lines of one schema."""


@dataclass
class ExportReport:
    lines: int = 0
    schema: pa.Schema | None = None  # as inferred from the first block
    problems: Counter = field(default_factory=Counter)  # structural problem -> lines
    examples: list[str] = field(default_factory=list)
    secrets: ScanReport = field(default_factory=ScanReport)
    duplicate_evidence_ids: int = 0
    duplicate_pairs: int = 0
    token_estimates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def problem(self, kind: str, lines: int, first_line: int | None = None) -> None:
        if not lines:
            return
        self.problems[kind] += lines
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{kind}: {lines} line(s)" + (f", first at line {first_line}" if first_line else ""))

    def token_summary(self, limit: int) -> dict:
        estimates = self.token_estimates
        if not len(estimates):
            return {"lines": 0, "over_limit": 0, "limit": limit}
        p50, p90, p99 = np.percentile(estimates, [50, 90, 99]).round().astype(int).tolist()
        return {
            "lines": len(estimates), "limit": limit, "over_limit": int((estimates > limit).sum()),
            "p50": p50, "p90": p90, "p99": p99, "max": int(estimates.max()), "mean": round(float(estimates.mean()), 1),
        }


def line_pieces(handle, piece_bytes: int = PIECE_BYTES) -> Iterator[bytes]:
    """The file in pieces of whole lines, about ``piece_bytes`` each (JSON lines end only at a newline)."""
    rest = b""
    while chunk := handle.read(piece_bytes):
        piece = rest + chunk
        end = piece.rfind(b"\n") + 1
        if end:
            yield piece[:end]
        rest = piece[end:]
    if rest:
        yield rest


def read_json_lines(store: Store, path: str, schema: pa.Schema | None = None) -> Iterator[pa.RecordBatch]:
    """The file's lines as batches, as a trainer's loader reads them: the schema comes from the first
    piece and every later piece is held to it, so a key whose type drifts between lines fails here,
    not in training. With ``schema`` given, any key outside it fails.

    Each piece is parsed on its own: Arrow's streaming reader reads ahead without bound."""
    def parsed() -> Iterator[pa.RecordBatch]:
        held = schema
        with store.open(path) as handle:
            for piece in line_pieces(handle):
                longest = max(map(len, piece.split(b"\n")))
                read = pj.ReadOptions(block_size=max(PARSE_BLOCK_BYTES, longest + 1))
                parse = pj.ParseOptions(explicit_schema=held, unexpected_field_behavior="error") if held else None
                try:
                    table = pj.read_json(pa.py_buffer(piece), read_options=read, parse_options=parse)
                except pa.ArrowInvalid as error:
                    raise UnreadableExport(f"{store.url(path)} does not load with pyarrow's JSON reader: {error}") from None
                held = held or table.schema
                yield from table.combine_chunks().to_batches()  # one batch a piece: fewer, larger steps

    # The next piece is parsed while the caller works on this one.
    yield from prefetched(parsed)


def estimate_tokens(*columns: pa.Array) -> np.ndarray:
    total = np.full(len(columns[0]), TOKENS_PER_LINE, dtype=np.float64)
    for column in columns:
        chars = pc.utf8_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        wide = (pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False) - chars) / 2
        total += (chars - wide) / ASCII_CHARS_PER_TOKEN + wide * TOKENS_PER_WIDE_CHAR
    return np.ceil(total).astype(np.int64)


def _schema_problem(schema: pa.Schema) -> str | None:
    """What is wrong with the keys and types the reader inferred, if anything.

    A JSON string may be read as a timestamp when it looks like one (collected_at does): both are
    strings in the file."""
    if schema.names != list(RECORD_KEYS):
        return f"keys are {schema.names}, not {list(RECORD_KEYS)}"
    for key in TEXT_KEYS:
        if not _read_from_a_string(schema.field(key).type):
            return f"{key} is {schema.field(key).type}, not a string"
    metadata = schema.field("metadata").type
    if not pa.types.is_struct(metadata) or [field.name for field in metadata] != list(METADATA_KEYS):
        return f"metadata is {metadata}, not an object with the keys {list(METADATA_KEYS)}"
    wrong = [field.name for field in metadata if not _read_from_a_string(field.type)]
    return f"metadata values {wrong} are not strings" if wrong else None


def _is_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type)


def _read_from_a_string(data_type: pa.DataType) -> bool:
    return _is_text(data_type) or pa.types.is_timestamp(data_type) or pa.types.is_date(data_type)


def _text(batch: pa.RecordBatch, key: str) -> pa.Array:
    """A text column as strings, also when every value so far looked like a date to the reader."""
    column = batch.column(key)
    return column if _is_text(column.type) else column.cast(pa.string())


def _check_structure(batch: pa.RecordBatch, first_line: int, report: ExportReport) -> None:
    for key in TEXT_KEYS:
        column = _text(batch, key)
        report.problem(f"{key} missing or null", column.null_count, first_line)
        blank = pc.or_(pc.utf8_is_space(column), pc.equal(pc.utf8_length(column), 0)).fill_null(False)
        report.problem(f"{key} blank", pc.sum(blank).as_py() or 0, first_line)
    wrong = pc.not_equal(_text(batch, "instruction"), INSTRUCTION).fill_null(False)
    report.problem("instruction is not the fixed text", pc.sum(wrong).as_py() or 0, first_line)
    metadata = batch.column("metadata")
    report.problem("metadata missing or null", metadata.null_count, first_line)
    for key in METADATA_KEYS:
        report.problem(f"metadata.{key} missing or null", pc.struct_field(metadata, key).null_count, first_line)


def validate_alpaca_export(store: Store, path: str) -> ExportReport:
    """Structure, secrets, duplicates and token lengths of an Alpaca export, in one pass that reads
    the file as trainers do (one schema inferred from the first block and held to the end)."""
    report = ExportReport()
    ids, digests, tokens = [], bytearray(), []
    for batch in read_json_lines(store, path):
        if report.schema is None:
            report.schema = batch.schema
            if problem := _schema_problem(batch.schema):
                report.problem(problem, batch.num_rows, 1)
                return report
        first_line = report.lines + 1
        _check_structure(batch, first_line, report)
        inputs, outputs = _text(batch, "input"), _text(batch, "output")
        for column in (inputs, outputs):
            scan_column(column, first_line, report.secrets)
        ids.append(pc.struct_field(batch.column("metadata"), "evidence_id").cast(pa.large_string()))
        digests += pair_digests(inputs, outputs)  # a null is reported above
        tokens.append(estimate_tokens(*(_text(batch, key) for key in TEXT_KEYS)))
        report.lines += batch.num_rows
    if report.lines:
        report.duplicate_evidence_ids = report.lines - pc.count_distinct(pa.chunked_array(ids)).as_py()
        unique_pairs = np.unique(np.frombuffer(digests, dtype=f"S{DIGEST_SIZE}"))
        report.duplicate_pairs = report.lines - len(unique_pairs)
        report.token_estimates = np.concatenate(tokens)
    return report


def count_records(store: Store, path: str) -> tuple[int, pa.Schema | None]:
    """Lines that load, and the one schema (inferred, as trainers infer it) they all load into."""
    lines, schema = 0, None
    for batch in read_json_lines(store, path):
        schema = schema or batch.schema
        lines += batch.num_rows
    return lines, schema
