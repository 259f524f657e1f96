"""Where files live: a local folder or an S3-compatible bucket, behind one fsspec filesystem.

Every file the pipeline writes goes through ``Store.writing``, which makes it appear under its final
name only once it is whole, and by default refuses to replace an existing file. On a local disk that
is a hidden temporary file, fsynced and linked into place; on an object store, an upload that is
completed (a single PUT, or the multipart upload completed, with If-None-Match) only on success and
aborted otherwise. Nothing else in the package knows which one it is talking to.
"""

import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

# Upload part size: S3 needs at least 5 MiB a part; a few writers stream side by side, each
# holding one part in memory.
UPLOAD_BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class Store:
    fs: fsspec.AbstractFileSystem
    root: str

    @classmethod
    def from_url(cls, url: str, **storage_options) -> "Store":
        """``s3://bucket/prefix`` (options: endpoint, region, credentials) or a local folder."""
        if "://" not in url:
            url = os.path.abspath(os.path.expanduser(url))
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        return cls(fs, root.rstrip("/") or "/")

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def url(self, path: str) -> str:
        """How a person or another tool names the file: an absolute path, or ``s3://bucket/key``."""
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def exists(self, path: str) -> bool:
        self.fs.invalidate_cache(posixpath.dirname(path))
        return self.fs.exists(path)

    def size(self, path: str) -> int:
        self.fs.invalidate_cache(posixpath.dirname(path))
        return self.fs.size(path)

    def open(self, path: str) -> IO[bytes]:
        return self.fs.open(path, "rb")

    def read_text(self, path: str) -> str:
        with self.open(path) as handle:
            return handle.read().decode("utf-8")

    def write_text(self, path: str, text: str, replace: bool = False) -> None:
        with self.writing(path, replace=replace) as handle:
            handle.write(text.encode("utf-8"))

    def remove(self, path: str) -> None:
        if self.exists(path):
            self.fs.rm(path)

    @contextmanager
    def writing(self, path: str, replace: bool = False) -> Iterator[IO[bytes]]:
        """A binary file that appears under ``path`` only if the block completes without error."""
        if not replace and self.exists(path):
            raise FileExistsError(f"refusing to overwrite existing file {self.url(path)}")
        if self.is_local:
            with _local_writing(path, replace) as handle:
                yield handle
            return
        handle = self.fs.open(path, "wb" if replace else "xb", autocommit=False, block_size=UPLOAD_BLOCK_BYTES)
        try:
            yield handle
            handle.close()
            handle.commit()
        except BaseException:
            # fsspec's protocol is close, then commit or discard; a file left open would upload its
            # buffer when garbage-collected.
            with suppress(Exception):
                handle.close()
            handle.discard()
            raise
        finally:
            self.fs.invalidate_cache(posixpath.dirname(path))


@contextmanager
def _local_writing(path: str, replace: bool) -> Iterator[IO[bytes]]:
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    temp_path = os.path.join(folder, f".{name}.partial")
    handle = open(temp_path, "wb")
    try:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        if replace:
            os.replace(temp_path, path)
        else:
            # link() refuses an existing name, so even a racing writer cannot replace an earlier file.
            os.link(temp_path, path)
            os.unlink(temp_path)
        fsync_directory(folder)
    finally:
        handle.close()
        if os.path.exists(temp_path):
            os.unlink(temp_path)


def fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
