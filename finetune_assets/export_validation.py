"""What the asset checks find in an export file as written, read back the way trainers read it.

The file is streamed through pyarrow's JSON reader (what HF `datasets`, LLaMA-Factory and Axolotl use
under the hood), a block at a time, so a million-line week is checked in bounded memory. No Dagster here.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .pairs import INSTRUCTION, METADATA_KEYS
from .secret_scan import ScanReport, scan_column

RECORD_KEYS = ("instruction", "input", "output", "metadata")
TEXT_KEYS = ("instruction", "input", "output")
ALPACA_SCHEMA = pa.schema(
    [*((key, pa.string()) for key in TEXT_KEYS), ("metadata", pa.struct([(key, pa.string()) for key in METADATA_KEYS]))]
)
BLOCK_BYTES = 16 << 20
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


def read_json_lines(path: Path, schema: pa.Schema | None = None):
    """Batches of the file; a line longer than a block gets a larger block rather than a failure.

    Without ``schema`` the reader infers one from the first block and holds every later block to it,
    as a trainer's loader does: a key whose type drifts between lines fails here, not in training.
    With it, any key outside the schema fails."""
    block = BLOCK_BYTES
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error") if schema else None
    while True:
        try:
            reader = pj.open_json(path, read_options=pj.ReadOptions(block_size=block), parse_options=parse)
            yield from reader
            return
        except pa.ArrowInvalid as error:
            if "straddl" not in str(error) or block > Path(path).stat().st_size:
                raise UnreadableExport(f"{Path(path).name} does not load with pyarrow's JSON reader: {error}") from None
            block *= 4


def estimate_tokens(*columns: pa.Array) -> np.ndarray:
    total = np.full(len(columns[0]), TOKENS_PER_LINE, dtype=np.float64)
    for column in columns:
        chars = pc.utf8_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        wide = (pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False) - chars) / 2
        total += (chars - wide) / ASCII_CHARS_PER_TOKEN + wide * TOKENS_PER_WIDE_CHAR
    return np.ceil(total).astype(np.int64)


def _check_structure(batch: pa.RecordBatch, first_line: int, report: ExportReport) -> None:
    for key in TEXT_KEYS:
        column = batch.column(key)
        report.problem(f"{key} missing or null", column.null_count, first_line)
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0).fill_null(False)
        report.problem(f"{key} blank", pc.sum(blank).as_py() or 0, first_line)
    wrong = pc.not_equal(batch.column("instruction"), INSTRUCTION).fill_null(False)
    report.problem("instruction is not the fixed text", pc.sum(wrong).as_py() or 0, first_line)
    metadata = batch.column("metadata")
    report.problem("metadata missing or null", metadata.null_count, first_line)
    for key in METADATA_KEYS:
        report.problem(f"metadata.{key} missing or null", pc.struct_field(metadata, key).null_count, first_line)


def validate_alpaca_export(path: Path) -> ExportReport:
    """Structure, secrets, duplicates and token lengths of an Alpaca export, in one pass."""
    report = ExportReport()
    ids, pairs, tokens = [], [], []
    for batch in read_json_lines(path, ALPACA_SCHEMA):
        first_line = report.lines + 1
        _check_structure(batch, first_line, report)
        for key in ("input", "output"):
            scan_column(batch.column(key), first_line, report.secrets)
        ids.append(pc.struct_field(batch.column("metadata"), "evidence_id").to_numpy(zero_copy_only=False))
        pairs.append(np.fromiter(map(hash, zip(*(batch.column(k).to_pylist() for k in ("input", "output")))), np.int64))
        tokens.append(estimate_tokens(*(batch.column(key) for key in TEXT_KEYS)))
        report.lines += batch.num_rows
    if report.lines:
        all_ids = np.concatenate(ids)
        report.duplicate_evidence_ids = len(all_ids) - len(np.unique(all_ids))
        all_pairs = np.concatenate(pairs)
        report.duplicate_pairs = len(all_pairs) - len(np.unique(all_pairs))
        report.token_estimates = np.concatenate(tokens)
    return report


def count_records(path: Path) -> tuple[int, pa.Schema | None]:
    """Lines that load, and the one schema (inferred, as trainers infer it) they all load into."""
    lines, schema = 0, None
    for batch in read_json_lines(path):
        schema = schema or batch.schema
        lines += batch.num_rows
    return lines, schema
