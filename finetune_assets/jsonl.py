"""Writing JSONL so that a file appears under its final name only when it is whole."""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path


def encode_line(record: dict) -> bytes:
    """One record as a UTF-8 line; key order is the record's, non-ASCII is written as is."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    records: int
    size_bytes: int
    sha256: str


class AtomicJsonlWriter:
    """Streams lines to a hidden temporary file, then fsyncs and renames it into place.

    A failure at any point removes the temporary file, so readers never see a partial export.
    """

    def __init__(self, final_path: Path):
        self.final_path = Path(final_path)
        self._temp_path = self.final_path.with_name(f".{self.final_path.name}.partial")
        self._digest = hashlib.sha256()
        self._records = 0
        self._size = 0
        self._file = None

    def __enter__(self) -> "AtomicJsonlWriter":
        if self.final_path.exists():
            raise FileExistsError(f"refusing to overwrite existing export {self.final_path}")
        self.final_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self._temp_path, "wb")
        return self

    def write_lines(self, chunk: bytes, records: int) -> None:
        """Appends ``records`` complete lines, given as one chunk of bytes."""
        self._file.write(chunk)
        self._digest.update(chunk)
        self._records += records
        self._size += len(chunk)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._file.flush()
                os.fsync(self._file.fileno())
        finally:
            self._file.close()
        if exc_type is not None:
            self._temp_path.unlink(missing_ok=True)
            return
        # link() refuses an existing name, so even a racing writer cannot replace an earlier export.
        os.link(self._temp_path, self.final_path)
        self._temp_path.unlink()
        fsync_directory(self.final_path.parent)

    @property
    def result(self) -> WrittenFile:
        return WrittenFile(self.final_path, self._records, self._size, self._digest.hexdigest())


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def file_digest_and_lines(path: Path, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """sha256 and line count of a file as stored, in one read."""
    digest, lines = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines
