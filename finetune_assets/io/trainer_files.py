"""The trainer files of one export: each format split into train and validation, in a folder next to
the snapshot file. Each file appears only when whole; the dataset card and dataset_info.json are
written last, once every file is in place."""

import posixpath
from contextlib import ExitStack, suppress
from dataclasses import asdict

import numpy as np
import pyarrow as pa

from ..core.line_formats import line_bytes, line_column
from ..core.records import TrainerFile
from ..core.splits import SPLITS
from .atomic_jsonl import AtomicJsonlWriter
from .store import Store


def trainer_file_name(trainer_format: str, split: str) -> str:
    return f"{trainer_format}.{split}.jsonl"


class TrainerFileSet:
    """Writes ``<format>.<split>.jsonl`` (or what ``name_of`` names) for every format into ``folder``;
    an empty side gets no file."""

    def __init__(self, store: Store, folder: str, formats: list[str], name_of=trainer_file_name, sides=SPLITS):
        """``sides``: the sides that get lines (of a corpus week with pairs on one side only, that one)."""
        self.store, self.folder = store, folder
        self._writers = {
            (name, split): AtomicJsonlWriter(store, posixpath.join(folder, name_of(name, split)), skip_empty=True)
            for name in formats
            for split in sides
        }
        self._texts: dict[str, str] = {}
        self._stack = ExitStack()

    def __enter__(self) -> "TrainerFileSet":
        with ExitStack() as stack:
            for writer in self._writers.values():
                stack.enter_context(writer)
            self._stack = stack.pop_all()
        return self

    def write(self, batch: pa.RecordBatch, alpaca_lines: pa.LargeStringArray, validation: np.ndarray) -> None:
        """Adds the batch to every file; ``alpaca_lines`` are the snapshot's lines, reused, not re-encoded."""
        sides = {"train": ~validation, "validation": validation}
        lines_of = {"alpaca": alpaca_lines}
        for (name, split), writer in self._writers.items():
            if name not in lines_of:  # each format's lines once, for both sides
                lines_of[name] = line_column(batch, name)
            side = sides[split]
            # A batch often falls on one side whole (a group spans many rows): then no copy is made.
            chosen = lines_of[name] if side.all() else lines_of[name].filter(pa.array(side))
            writer.write_lines(line_bytes(chosen), len(chosen))

    def files(self) -> list[TrainerFile]:
        """The files with at least one line, as they will be published."""
        return [
            TrainerFile(**asdict(writer.result), trainer_format=name, split=split)
            for (name, split), writer in self._writers.items()
            if writer.result.records
        ]

    def add_text(self, name: str, text: str) -> None:
        """A file (the card, dataset_info.json) written once every trainer file is in place."""
        self._texts[name] = text

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            suppressed = self._stack.__exit__(exc_type, exc, tb)
            if exc_type is None:
                for name, text in self._texts.items():
                    self.store.write_text(posixpath.join(self.folder, name), text)
        except BaseException:
            self._remove_folder()
            raise
        if exc_type is not None and not suppressed:
            self._remove_folder()
        return suppressed

    def _remove_folder(self) -> None:
        """After a failure: the folder is this set's alone (named after its export or version), and a
        file published before a later one failed, or even an empty folder, would show trainers a set
        that is not whole."""
        with suppress(Exception):
            self.store.remove_tree(self.folder)
