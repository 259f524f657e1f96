"""Writing JSONL so that a file appears under its final name only when it is whole."""

import hashlib

import pyarrow as pa

from ..core.records import WrittenFile
from .store import Store


class EmptyFile(Exception):
    """Raised into the store's writer to drop a file that got no line."""


class AtomicJsonlWriter:
    """Streams lines into a store file that appears only when whole, counting and hashing as it goes.

    A failure at any point leaves nothing under the final name. With ``skip_empty``, a file that
    received no line is dropped instead of published.
    """

    def __init__(self, store: Store, path: str, skip_empty: bool = False):
        self.store, self.path, self.skip_empty = store, path, skip_empty
        self._digest = hashlib.sha256()
        self._records = 0
        self._size = 0
        self._writing = None
        self._file = None

    def __enter__(self) -> "AtomicJsonlWriter":
        self._writing = self.store.writing(self.path)
        self._file = self._writing.__enter__()
        return self

    def write_lines(self, chunk: bytes | memoryview | pa.Buffer, records: int) -> None:
        """Appends ``records`` complete lines, given as one chunk of bytes."""
        self._file.write(chunk)
        self._digest.update(chunk)
        self._records += records
        self._size += len(chunk)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and self.skip_empty and not self._records:
            return self._writing.__exit__(EmptyFile, EmptyFile(self.path), None)
        return self._writing.__exit__(exc_type, exc, tb)

    @property
    def result(self) -> WrittenFile:
        return WrittenFile(self.path, self.store.url(self.path), self._records, self._size, self._digest.hexdigest())


def file_digest_and_lines(store: Store, path: str, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """sha256 and line count of a file as stored, in one read."""
    digest, lines = hashlib.sha256(), 0
    with store.open(path) as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines
