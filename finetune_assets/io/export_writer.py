"""One pass over a week's training pairs: the snapshot, every trainer file and the exported ids,
each appearing only when whole."""

import posixpath
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from ..core.dataset_card import ExportSummary, dataset_card, dataset_info_json
from ..core.line_formats import line_bytes, line_column
from ..core.records import TrainerFile, WrittenFile
from ..core.splits import split_column, validation_mask
from ..core.staged_tables import SOURCE_IDS
from .atomic_jsonl import AtomicJsonlWriter
from .background import WriteBehind
from .staging import BatchFileWriter, read_batches
from .store import Store
from .trainer_files import TrainerFileSet

PREVIEW_COLUMNS = ["evidence_id", "input", "output"]
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class ExportPlan:
    formats: list[str]
    split_key: str
    validation_fraction: float


@dataclass(frozen=True)
class ExportResult:
    snapshot: WrittenFile
    trainer_files: list[TrainerFile]
    preview: list[dict]


def trainer_folder(snapshot_path: str) -> str:
    """The snapshot's trainer files, card and dataset_info.json sit in a folder named after it."""
    return posixpath.splitext(snapshot_path)[0]


def write_export(
    staging: Store,
    pairs_path: str,
    ids_path: str,
    exports: Store,
    snapshot_path: str,
    plan: ExportPlan,
    describe: Callable[[WrittenFile, list[TrainerFile]], ExportSummary],
) -> ExportResult:
    column = split_column(plan.split_key)
    trainer_files = TrainerFileSet(exports, trainer_folder(snapshot_path), plan.formats)
    preview = []
    with (
        AtomicJsonlWriter(exports, snapshot_path) as snapshot,
        trainer_files,
        BatchFileWriter(staging, ids_path, SOURCE_IDS) as ids,
    ):
        # Innermost, so every write has finished before any file is committed or discarded.
        with WriteBehind() as behind:
            for batch in read_batches(staging, pairs_path):
                validation = validation_mask(batch.column(column), plan.validation_fraction)
                lines = line_column(batch, "alpaca")
                behind.submit(snapshot.write_lines, line_bytes(lines), batch.num_rows)
                behind.submit(trainer_files.write, batch, lines, validation)
                ids.write(pa.record_batch([batch.column("evidence_id"), pa.array(validation)], schema=SOURCE_IDS))
                if len(preview) < PREVIEW_ROWS:
                    preview.extend(batch.slice(0, PREVIEW_ROWS - len(preview)).select(PREVIEW_COLUMNS).to_pylist())
        files = trainer_files.files()
        summary = describe(snapshot.result, files)
        trainer_files.add_text("README.md", dataset_card(summary))
        trainer_files.add_text("dataset_info.json", dataset_info_json(summary))
    return ExportResult(snapshot.result, files, preview)
