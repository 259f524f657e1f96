"""What the checks find in an Alpaca export, fed the file's lines as parsed batches: structure, secrets,
duplicates and token lengths, in one pass and bounded memory (``io.export_reader`` does the reading)."""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .digests import distinct_count, pair_digests
from .line_formats import LINE_SCHEMAS
from .pairs import INSTRUCTION, METADATA_KEYS
from .secret_scan import ScanReport, scan_batch

TEXT_KEYS = ("instruction", "input", "output")
ALPACA_SCHEMA = LINE_SCHEMAS["alpaca"]
# Offline estimate (no tokenizer download at run time): ~4 ASCII characters per token, and at most
# 1.5 tokens per other character (CJK text runs about 1-1.5 in common BPE vocabularies), plus framing.
ASCII_CHARS_PER_TOKEN = 4
TOKENS_PER_WIDE_CHAR = 1.5
TOKENS_PER_LINE = 12
EXAMPLES = 10


def estimate_tokens(*columns: pa.Array) -> np.ndarray:
    total = np.full(len(columns[0]), TOKENS_PER_LINE, dtype=np.float64)
    for column in columns:
        chars = pc.utf8_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        wide = (pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False) - chars) / 2
        total += (chars - wide) / ASCII_CHARS_PER_TOKEN + wide * TOKENS_PER_WIDE_CHAR
    return np.ceil(total).astype(np.int64)


def is_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type)


def _same_shape(found: pa.DataType, expected: pa.DataType) -> bool:
    """Equal types, counting string and large_string as one."""
    if is_text(expected):
        return is_text(found)
    if pa.types.is_struct(expected):
        return (
            pa.types.is_struct(found)
            and [field.name for field in found] == [field.name for field in expected]
            and all(_same_shape(f.type, e.type) for f, e in zip(found, expected, strict=True))
        )
    if pa.types.is_list(expected) or pa.types.is_large_list(expected):
        return (pa.types.is_list(found) or pa.types.is_large_list(found)) and _same_shape(
            found.value_type, expected.value_type
        )
    return found == expected


def inference_problem(inferred: pa.Schema, expected: pa.Schema) -> str | None:
    """How a loader that infers types (HF `datasets`, pandas) would read the file otherwise than
    ``expected``: a metadata value read as a timestamp, say, which then fails on the next week."""
    if inferred.names != expected.names:
        return f"keys are {inferred.names}, not {expected.names}"
    wrong = [
        f"{field.name}: {field.type}"
        for field in inferred
        if not _same_shape(field.type, expected.field(field.name).type)
    ]
    return f"a loader that infers types reads {'; '.join(wrong)}" if wrong else None


SCANNED_METADATA = ("incident_id", "alertname", "schema_version", "matched_playbook_id")


def scanned_texts(batch: pa.RecordBatch) -> list[pa.Array]:
    """Every text a trainer reads: a label or a playbook id can hold a secret as well as the summary."""
    labels = [pc.struct_field(batch.column("metadata"), key) for key in SCANNED_METADATA]
    return [batch.column("input"), batch.column("output"), *labels]


@dataclass
class ExportReport:
    lines: int = 0
    inferred: pa.Schema | None = None  # what a loader that infers types makes of the first piece
    problems: Counter = field(default_factory=Counter)  # structural problem -> lines
    examples: list[str] = field(default_factory=list)
    secrets: ScanReport = field(default_factory=ScanReport)
    duplicate_evidence_ids: int = 0
    duplicate_pairs: int = 0
    token_estimates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sha256: str | None = None  # of the bytes read
    _ids: list = field(default_factory=list, repr=False)
    _digests: bytearray = field(default_factory=bytearray, repr=False)
    _tokens: list = field(default_factory=list, repr=False)

    def problem(self, kind: str, lines: int, first_line: int | None = None) -> None:
        if not lines:
            return
        self.problems[kind] += lines
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{kind}: {lines} line(s)" + (f", first at line {first_line}" if first_line else ""))

    def add(self, batch: pa.RecordBatch, flags: list[np.ndarray] | None = None) -> None:
        """Takes the next lines of the file, read with the explicit schema (so every value is a string).
        ``flags``: ``prefilter(scanned_texts(batch))``, when it was found ahead."""
        first_line = self.lines + 1
        self._check_structure(batch, first_line)
        inputs, outputs = batch.column("input"), batch.column("output")
        evidence_ids = pc.struct_field(batch.column("metadata"), "evidence_id")
        scan_batch(scanned_texts(batch), first_line, self.secrets, evidence_ids, flags)
        self._ids.append(evidence_ids.cast(pa.large_string()))
        self._digests += pair_digests(inputs, outputs)  # a null is reported above
        self._tokens.append(estimate_tokens(*(batch.column(key) for key in TEXT_KEYS)))
        self.lines += batch.num_rows

    def finish(self) -> "ExportReport":
        if self.lines:
            self.duplicate_evidence_ids = self.lines - pc.count_distinct(pa.chunked_array(self._ids)).as_py()
            self.duplicate_pairs = self.lines - distinct_count(self._digests)
            self.token_estimates = np.concatenate(self._tokens)
        self._ids, self._digests, self._tokens = [], bytearray(), []
        return self

    def _check_structure(self, batch: pa.RecordBatch, first_line: int) -> None:
        for key in TEXT_KEYS:
            column = batch.column(key)
            self.problem(f"{key} missing or null", column.null_count, first_line)
            blank = pc.or_(pc.utf8_is_space(column), pc.equal(pc.utf8_length(column), 0)).fill_null(False)
            self.problem(f"{key} blank", pc.sum(blank).as_py() or 0, first_line)
        wrong = pc.not_equal(batch.column("instruction"), INSTRUCTION).fill_null(False)
        self.problem("instruction is not the fixed text", pc.sum(wrong).as_py() or 0, first_line)
        metadata = batch.column("metadata")
        self.problem("metadata missing or null", metadata.null_count, first_line)
        for key in METADATA_KEYS:
            self.problem(f"metadata.{key} missing or null", pc.struct_field(metadata, key).null_count, first_line)

    def token_summary(self, limit: int) -> dict:
        estimates = self.token_estimates
        if not len(estimates):
            return {"lines": 0, "over_limit": 0, "limit": limit}
        p50, p90, p99 = np.percentile(estimates, [50, 90, 99]).round().astype(int).tolist()
        return {
            "lines": len(estimates),
            "limit": limit,
            "over_limit": int((estimates > limit).sum()),
            "p50": p50,
            "p90": p90,
            "p99": p99,
            "max": int(estimates.max()),
            "mean": round(float(estimates.mean()), 1),
        }
