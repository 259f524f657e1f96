"""Reading an export file back as trainers read it: pyarrow's JSON reader (what HF `datasets`,
LLaMA-Factory and Axolotl use underneath), a piece at a time, so a million-line week is read in
bounded memory, with its bytes hashed as they are read."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from ..core.export_report import ALPACA_SCHEMA, ExportReport, scanned_texts
from ..core.secret_scan import prefilter
from .background import prefetched
from .store import Store

# Small pieces keep the working set small: two files are read at once, and a larger piece only
# leaves more freed memory held by the allocator, at no gain in speed (measured at 4, 8 and 16 MB).
PIECE_BYTES = 4 << 20
PARSE_BLOCK_BYTES = 1 << 20  # blocks of a piece are parsed on both cores


class UnreadableExport(Exception):
    """The file does not load as JSON lines of the expected schema."""


def line_pieces(handle, piece_bytes: int = PIECE_BYTES, digest=None) -> Iterator[bytes]:
    """The file in pieces of whole lines, about ``piece_bytes`` each (JSON lines end only at a newline);
    ``digest`` is fed every byte read."""
    rest = b""
    while chunk := handle.read(piece_bytes):
        if digest is not None:
            digest.update(chunk)
        piece = rest + chunk
        end = piece.rfind(b"\n") + 1
        if end:
            yield piece[:end]
        rest = piece[end:]
    if rest:
        yield rest


def _parse(piece: bytes, schema: pa.Schema | None, longest: int) -> pa.Table:
    read = pj.ReadOptions(block_size=max(PARSE_BLOCK_BYTES, longest + 1))
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error") if schema else None
    return pj.read_json(pa.py_buffer(piece), read_options=read, parse_options=parse)


@dataclass
class Reading:
    """What reading a file found besides its lines: its sha256 and, when asked for (``infer_schema``),
    what a loader that infers types makes of its first piece."""

    inferred: pa.Schema | None = None
    sha256: str | None = None
    # The first piece parsed once more, by inference: only the weekly export's round trip compares it.
    infer_schema: bool = False


def read_json_lines(
    store: Store, path: str, schema: pa.Schema, reading: Reading | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's lines as batches of ``schema``: a value of another type, or a key outside it, fails
    here rather than in training. ``reading`` (when given) gets the schema a loader that infers types
    would see in the first piece, and the sha256 of every byte read."""
    for _, batch in read_lines(store, path, schema, reading, stored=False):
        yield batch


def read_lines(
    store: Store, path: str, schema: pa.Schema | None, reading: Reading | None = None, stored: bool = True
) -> Iterator[tuple[pa.LargeStringArray | None, pa.RecordBatch | None]]:
    """The file a piece at a time: its lines as stored (each with its newline; None unless ``stored``),
    and, given a ``schema``, the same lines parsed, row for row.

    Each piece is parsed on its own: Arrow's streaming reader reads ahead without bound."""
    digest = hashlib.sha256()

    def parsed() -> Iterator[tuple[pa.LargeStringArray, pa.RecordBatch | None]]:
        with store.open(path) as handle:
            for piece in line_pieces(handle, digest=digest):
                offsets = _line_offsets(piece)
                lines = _stored_lines(piece, offsets) if stored else None
                if schema is None:
                    yield lines, None
                    continue
                longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
                try:
                    if reading is not None and reading.infer_schema and reading.inferred is None:
                        reading.inferred = _parse(piece, None, longest).schema
                    table = _parse(piece, schema, longest)
                except pa.ArrowInvalid as error:
                    raise UnreadableExport(
                        f"{store.url(path)} does not load with pyarrow's JSON reader: {error}"
                    ) from None
                if table.num_rows != len(offsets) - 1:
                    raise UnreadableExport(f"{store.url(path)} has lines that hold no JSON object (a blank line?)")
                # One batch a piece: fewer, larger steps.
                yield lines, table.combine_chunks().to_batches()[0] if table.num_rows else None
        if reading is not None:
            reading.sha256 = digest.hexdigest()

    # The next piece is parsed while the caller works on this one.
    for lines, batch in prefetched(parsed):
        if batch is not None or schema is None:
            yield lines, batch


def _line_offsets(piece: bytes) -> np.ndarray:
    """Where each line of the piece starts, and its end; a last line without a newline counts."""
    if not piece:
        return np.zeros(1, dtype=np.int64)
    ends = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 10) + 1
    if len(ends) == 0 or ends[-1] != len(piece):
        ends = np.append(ends, len(piece))
    return np.concatenate([[0], ends]).astype(np.int64)


def _stored_lines(piece: bytes, offsets: np.ndarray) -> pa.LargeStringArray:
    """The piece's lines as a string column over its own bytes (no copy)."""
    return pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(piece))


def validate_alpaca_export(store: Store, path: str) -> ExportReport:
    """Structure, secrets, duplicates and token lengths of an Alpaca export, and its sha256 as read."""
    report, reading = ExportReport(), Reading(infer_schema=True)

    def looked_at() -> Iterator[tuple[pa.RecordBatch, list[np.ndarray]]]:
        for batch in read_json_lines(store, path, ALPACA_SCHEMA, reading):
            yield batch, prefilter(scanned_texts(batch))

    # The scanner's passes over every text (Arrow, which releases the GIL) run ahead on another thread
    # while the report's Python looks at the previous piece.
    for batch, flags in prefetched(looked_at):
        report.add(batch, flags)
    report.inferred, report.sha256 = reading.inferred, reading.sha256
    return report.finish()


def count_records(store: Store, path: str, schema: pa.Schema) -> tuple[int, Reading]:
    """Lines that load with ``schema``, and what reading them found (the inferred schema included)."""
    lines, reading = 0, Reading(infer_schema=True)
    for batch in read_json_lines(store, path, schema, reading):
        lines += batch.num_rows
    return lines, reading
