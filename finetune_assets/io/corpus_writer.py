"""Writing a corpus version: every kept pair of every week, in corpus order, into each format's
train and validation files, then the card and dataset_info.json; and the evidence ids in file order
for the audit rows. The lines are the weekly files' own bytes (re-encoded only for other formats)."""

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.corpus_card import CorpusInput
from ..core.export_report import ALPACA_SCHEMA
from ..core.records import TrainerFile
from ..core.staged_tables import SOURCE_IDS
from .background import WriteBehind
from .export_reader import Reading, read_lines
from .staging import BatchFileWriter
from .store import Store
from .trainer_files import TrainerFileSet
from .week_signatures import ChangedExport

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class WeekSelection:
    """One input file, and for each of its lines (in file order): kept or not, and its side."""

    path: str
    item: CorpusInput
    evidence_ids: pa.Array
    keep: np.ndarray
    validation: np.ndarray


@dataclass(frozen=True)
class CorpusFiles:
    files: list[TrainerFile]
    preview: list[dict]


def write_corpus(
    exports: Store,
    folder: str,
    formats: list[str],
    weeks: list[WeekSelection],
    staging: Store,
    ids_path: str,
    describe: Callable[[list[TrainerFile]], dict[str, str]],
) -> CorpusFiles:
    """``describe`` gets the written files and returns the texts (name -> text) written after them."""
    schema = None if list(formats) == ["alpaca"] else ALPACA_SCHEMA
    trainer_files = TrainerFileSet(exports, folder, list(formats))
    preview: list[dict] = []
    with trainer_files, BatchFileWriter(staging, ids_path, SOURCE_IDS) as ids:
        # Innermost, so every write has finished before any file is committed or discarded.
        with WriteBehind() as behind:
            for week in weeks:
                reading, position = Reading(), 0
                for lines, batch in read_lines(exports, week.path, schema, reading):
                    rows = slice(position, position + len(lines))
                    position += len(lines)
                    keep = week.keep[rows]
                    if not keep.any():
                        continue
                    mask = pa.array(keep)
                    chosen = lines if keep.all() else lines.filter(mask)
                    chosen_batch = None if batch is None else batch.filter(mask)
                    validation = week.validation[rows][keep]
                    behind.submit(trainer_files.write, chosen_batch, chosen, validation)
                    chosen_ids = week.evidence_ids.slice(rows.start, len(keep)).filter(mask)
                    ids.write(pa.record_batch([chosen_ids, pa.array(validation)], schema=SOURCE_IDS))
                    if len(preview) < PREVIEW_ROWS:
                        preview += [_preview(line) for line in chosen.slice(0, PREVIEW_ROWS - len(preview)).to_pylist()]
                if reading.sha256 != week.item.sha256 or position != len(week.keep):
                    # When it changed is not known: after its registration, at the latest while it was read.
                    raise ChangedExport(
                        f"{exports.url(week.path)} (audit row {week.item.audit_row_id} of week {week.item.week}) no "
                        f"longer holds the registered bytes: sha256 {reading.sha256}, registered {week.item.sha256}; "
                        "nothing is published"
                    )
        files = trainer_files.files()
        for name, text in describe(files).items():
            trainer_files.add_text(name, text)
    return CorpusFiles(files, preview)


def _preview(line: str) -> dict:
    record = json.loads(line)
    return {"evidence_id": record["metadata"]["evidence_id"], "input": record["input"], "output": record["output"]}
