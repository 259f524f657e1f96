"""What a materialization shows: small, readable previews."""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

PREVIEW_ROWS = 5
PREVIEW_TEXT = 80
# Columns of a staged extract that cannot hold source text: database ids (UUIDs), times, flags.
STRUCTURAL_COLUMNS = frozenset(
    {"ordinal", "id", "session_id", "execution_id", "collected_at", "created_at", "success", "verification_result"}
)


def _shorten(value) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_TEXT else text[: PREVIEW_TEXT - 1] + "…"


def preview_markdown(rows: list[dict]) -> str:
    """A markdown table of the first rows, each cell on one short line."""
    rows = rows[:PREVIEW_ROWS]
    if not rows:
        return "_no rows_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = (_shorten(row[column]).replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def batch_preview(batch: pa.RecordBatch | None) -> str:
    """The first rows, as they are: for text that has been redacted (the training pairs)."""
    if batch is None:
        return preview_markdown([])
    return preview_markdown(batch.slice(0, PREVIEW_ROWS).to_pylist())


def extract_preview(batch: pa.RecordBatch | None) -> str:
    """The first rows of a staged extract, its source text shown only by its length: the text is
    redacted an incident at a time when the pairs are built, and the event log keeps no raw text."""
    if batch is None:
        return preview_markdown([])
    batch = batch.slice(0, PREVIEW_ROWS)
    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if name in STRUCTURAL_COLUMNS or not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            columns.append(column)
            continue
        lengths = pc.utf8_length(column).to_pylist()
        columns.append(pa.array([None if n is None else f"<{n} chars>" for n in lengths], pa.string()))
    return preview_markdown(pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pylist())


class BatchTap:
    """Passes batches through, keeping the first rows for the preview. Closing it closes the batches'
    producer (a generator holding a database stream or spill files)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]):
        self._batches = batches
        self.first: pa.RecordBatch | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self._batches:
            if self.first is None and batch.num_rows:
                self.first = batch.slice(0, PREVIEW_ROWS)
            yield batch

    def close(self) -> None:
        if close := getattr(self._batches, "close", None):
            close()
