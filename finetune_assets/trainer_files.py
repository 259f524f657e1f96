"""The trainer files of one export: each format split into train and validation, in a folder that
appears next to the snapshot file only when every file in it is whole. No Dagster here."""

import os
import shutil
from dataclasses import dataclass
from itertools import compress
from pathlib import Path

import numpy as np
import pyarrow as pa

from .jsonl import AtomicJsonlWriter, fsync_directory
from .splits import SPLITS
from .writer import format_lines


@dataclass(frozen=True)
class TrainerFile:
    trainer_format: str
    split: str
    path: Path
    records: int
    size_bytes: int
    sha256: str

    @property
    def export_type(self) -> str:
        return f"{self.trainer_format}_{self.split}"


def trainer_file_name(trainer_format: str, split: str) -> str:
    return f"{trainer_format}.{split}.jsonl"


class TrainerFileSet:
    """Writes ``<format>.<split>.jsonl`` for every format into a hidden folder, published whole."""

    def __init__(self, folder: Path, formats: list[str]):
        self.folder = Path(folder)
        self._temp = self.folder.with_name(f".{self.folder.name}.partial")
        self._writers = {
            (name, split): AtomicJsonlWriter(self._temp / trainer_file_name(name, split))
            for name in formats
            for split in SPLITS
        }

    def __enter__(self) -> "TrainerFileSet":
        if self.folder.exists():
            raise FileExistsError(f"refusing to overwrite existing trainer files {self.folder}")
        shutil.rmtree(self._temp, ignore_errors=True)
        self._temp.mkdir(parents=True)
        for writer in self._writers.values():
            writer.__enter__()
        return self

    def write(self, batch: pa.RecordBatch, alpaca_lines: list[str], validation: np.ndarray) -> None:
        """Adds the batch to every file; ``alpaca_lines`` are the snapshot's lines, reused, not re-encoded."""
        sides = {"train": ~validation, "validation": validation}
        for (name, split), writer in self._writers.items():
            lines = alpaca_lines if name == "alpaca" else format_lines(batch, name)
            chosen = list(compress(lines, sides[split]))
            writer.write_lines("".join(chosen).encode("utf-8"), len(chosen))

    def files(self) -> list[TrainerFile]:
        """The files with at least one line, at their published paths; an empty split gets no file."""
        return [
            TrainerFile(name, split, self.folder / writer.final_path.name, *_counts(writer))
            for (name, split), writer in self._writers.items()
            if writer.result.records
        ]

    def add_text(self, name: str, text: str) -> None:
        (self._temp / name).write_text(text, encoding="utf-8")

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            for writer in self._writers.values():
                writer.__exit__(exc_type, exc, tb)
            if exc_type is None:
                for writer in self._writers.values():
                    if not writer.result.records:
                        writer.final_path.unlink()
                fsync_directory(self._temp)
                # rename() of a directory onto an existing non-empty one fails, so nothing is replaced.
                os.rename(self._temp, self.folder)
                fsync_directory(self.folder.parent)
        finally:
            shutil.rmtree(self._temp, ignore_errors=True)


def _counts(writer: AtomicJsonlWriter) -> tuple[int, int, str]:
    result = writer.result
    return result.records, result.size_bytes, result.sha256
