"""Reading an export file back the way trainers read it: pyarrow's JSON reader (what HF `datasets`,
LLaMA-Factory and Axolotl use underneath), a piece at a time, so a million-line week is read in
bounded memory."""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.json as pj

from ..core.export_report import ExportReport
from .background import prefetched
from .store import Store

# Small pieces keep the working set small: two files are read at once, and a larger piece only
# leaves more freed memory held by the allocator, at no gain in speed (measured at 4, 8 and 16 MB).
PIECE_BYTES = 4 << 20
PARSE_BLOCK_BYTES = 1 << 20  # blocks of a piece are parsed on both cores


class UnreadableExport(Exception):
    """The file does not load as JSON lines of one schema."""


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
                    raise UnreadableExport(
                        f"{store.url(path)} does not load with pyarrow's JSON reader: {error}"
                    ) from None
                held = held or table.schema
                yield from table.combine_chunks().to_batches()  # one batch a piece: fewer, larger steps

    # The next piece is parsed while the caller works on this one.
    yield from prefetched(parsed)


def validate_alpaca_export(store: Store, path: str) -> ExportReport:
    """Structure, secrets, duplicates and token lengths of an Alpaca export, read as trainers read it
    (one schema inferred from the first piece and held to the end)."""
    report = ExportReport()
    for batch in read_json_lines(store, path):
        if not report.add(batch):
            break
    return report.finish()


def count_records(store: Store, path: str) -> tuple[int, pa.Schema | None]:
    """Lines that load, and the one schema (inferred, as trainers infer it) they all load into."""
    lines, schema = 0, None
    for batch in read_json_lines(store, path):
        schema = schema or batch.schema
        lines += batch.num_rows
    return lines, schema
