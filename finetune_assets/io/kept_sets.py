"""The shingle sets of the rows a corpus plan kept: what later rows are compared with.

A piece per planned week, written to the staging store as soon as the week is planned, so neither a
build nor the plan it leaves holds them in memory: a comparison maps each piece it needs, copies out
the sets of the rows it asks for and lets the mapping go, so only those pages count as the build's
memory. A later version's plan lists the pieces of the version it extends and adds its own.
"""

import posixpath
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.set_similarity import gathered_sets
from .npy_files import load_array, save_array
from .store import Store

_PARTS = ("rows", "offsets", "values")


@dataclass(frozen=True)
class SetPiece:
    name: str
    rows: np.ndarray  # int64, ascending
    offsets: np.ndarray  # int64, len(rows) + 1
    values: Callable[[], np.ndarray]  # uint32: each row's sorted distinct shingles, back to back


def pieces_folder(staging: Store) -> str:
    return staging.path("corpus", "kept_sets")


def piece_name(path: str) -> str:
    """The piece a file of ``pieces_folder`` belongs to."""
    return posixpath.basename(path).rsplit(".", 2)[0]


def piece_files(staging: Store, name: str) -> list[str]:
    return [posixpath.join(pieces_folder(staging), f"{name}.{part}.npy") for part in _PARTS]


def read_piece(staging: Store, name: str) -> SetPiece:
    rows, offsets, values = piece_files(staging, name)
    return SetPiece(
        name, load_array(staging, rows), load_array(staging, offsets), lambda: load_array(staging, values, True)
    )


class KeptSets:
    def __init__(self, staging: Store, prefix: str, earlier: list[SetPiece] = ()):
        """``prefix``: names this build's pieces (one per week, ``<prefix>-<week>``)."""
        self._staging, self._prefix, self.pieces = staging, prefix, list(earlier)

    def add(self, week: str, rows: np.ndarray, offsets: np.ndarray, values: np.ndarray) -> None:
        """The week's kept rows (after every row held) and their sets (``values[offsets[i]:offsets[i + 1]]``)."""
        name = f"{self._prefix}-{week}"
        arrays = (rows, offsets - offsets[0], values[offsets[0] : offsets[-1]])
        for path, array in zip(piece_files(self._staging, name), arrays, strict=True):
            save_array(self._staging, path, array)
        values_path = piece_files(self._staging, name)[2]
        self.pieces.append(
            SetPiece(name, arrays[0].copy(), arrays[1].copy(), lambda: load_array(self._staging, values_path, True))
        )

    def gather(self, rows: np.ndarray, room: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The sets of ``rows`` (ascending, each held), back to back, and their sizes; ``room``: values
        left free at the end, where the caller puts sets of its own (one array, never a copy joined)."""
        parts, done = [], 0  # per piece: its values, where each asked row's set starts, and its size
        for piece in self.pieces:
            if done == len(rows) or not len(piece.rows):
                continue
            end = done + int(np.searchsorted(rows[done:], piece.rows[-1], "right"))
            if end == done:
                continue
            at = np.searchsorted(piece.rows, rows[done:end])
            if not (piece.rows[np.minimum(at, len(piece.rows) - 1)] == rows[done:end]).all():
                break
            parts.append((piece, piece.offsets[at], piece.offsets[at + 1] - piece.offsets[at]))
            done = end
        if done != len(rows):
            raise LookupError(f"row {rows[done]} is not a kept row: its set is not held")
        sizes = np.concatenate([size for *_, size in parts]) if parts else np.zeros(0, dtype=np.int64)
        values, filled = np.empty(int(sizes.sum()) + room, dtype=np.uint32), 0
        for piece, starts, size in parts:
            gathered_sets(piece.values(), starts, size, values[filled:])
            filled += int(size.sum())
        return values, sizes
