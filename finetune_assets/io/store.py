"""Where files live: a local folder or an S3-compatible bucket, behind one fsspec filesystem.

Every file the pipeline writes goes through ``Store.writing``, which makes it appear under its final
name only once it is whole, and by default refuses to replace an existing file. On a local disk that
is a hidden temporary file of the writer's own (``.<name>.<pid>-<random>.partial``), fsynced and
linked into place; on an object store, an upload that is completed (a single PUT, or the multipart
upload completed, with If-None-Match) only on success and aborted otherwise. Nothing else in the
package knows which one it is talking to. A ``private`` store (where source text is staged) makes
its folders and files readable by their owner only, on a local disk.
"""

import errno
import os
import posixpath
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

# Upload part size: S3 needs at least 5 MiB a part; a few writers stream side by side, each
# holding one part in memory.
UPLOAD_BLOCK_BYTES = 8 << 20
COPY_BLOCK_BYTES = 1 << 20


PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class Store:
    fs: fsspec.AbstractFileSystem
    root: str
    private: bool = False

    @classmethod
    def from_url(cls, url: str, private: bool = False, **storage_options) -> "Store":
        """``s3://bucket/prefix`` (options: endpoint, region, credentials) or a local folder."""
        if "://" not in url:
            url = os.path.abspath(os.path.expanduser(url))
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        return cls(fs, root.rstrip("/") or "/", private)

    def within(self, *parts: str) -> "Store":
        """The same store, rooted at a folder inside it."""
        return Store(self.fs, self.path(*parts), self.private)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def url(self, path: str) -> str:
        """How a person or another tool names the file: an absolute path, or ``s3://bucket/key``."""
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def path_of(self, url: str) -> str | None:
        """The path within this store of a file named by ``url`` (as ``url()`` gives it), or None when
        the file lies outside the store's root."""
        protocol, path = fsspec.core.split_protocol(url)
        if (protocol is None) != self.is_local:
            return None
        path = os.path.normpath(path) if self.is_local else path
        return path if path.startswith(posixpath.join(self.root, "")) else None

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

    def link(self, source: str, target: str) -> None:
        """``target`` holds the bytes of ``source`` without them being written again: a hard link on a
        disk (a copy only across devices), a server-side copy in a bucket."""
        if self.exists(target):
            raise FileExistsError(f"refusing to overwrite existing file {self.url(target)}")
        if not self.is_local:
            self.fs.copy(source, target)
            self.fs.invalidate_cache(posixpath.dirname(target))
            return
        _make_folders(os.path.dirname(target), self.private)
        try:
            os.link(source, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            with open(source, "rb") as handle, self.writing(target) as out:
                shutil.copyfileobj(handle, out, COPY_BLOCK_BYTES)
        fsync_directory(os.path.dirname(target))

    def make_folder(self, path: str) -> None:
        """Creates a local folder (and those above it) if missing; an object store has no folders."""
        if self.is_local:
            _make_folders(path, self.private)

    def remove(self, path: str) -> None:
        if self.exists(path):
            self.fs.rm(path)

    def remove_tree(self, path: str) -> None:
        if self.exists(path):
            self.fs.rm(path, recursive=True)

    def folders(self, path: str) -> list[str]:
        """The folders directly inside ``path`` (none when it does not exist)."""
        if not self.exists(path):
            return []
        return sorted(item["name"] for item in self.fs.ls(path, detail=True) if item["type"] == "directory")

    def files(self, path: str) -> list[str]:
        if not self.exists(path):
            return []
        return sorted(item["name"] for item in self.fs.ls(path, detail=True) if item["type"] != "directory")

    def modified(self, path: str) -> float:
        """When anything under ``path`` last changed (seconds since the epoch); 0 when nothing is there."""
        if self.is_local:
            times = [os.stat(path).st_mtime] if os.path.exists(path) else []
            for folder, _, names in os.walk(path):
                times += [os.stat(os.path.join(folder, name)).st_mtime for name in names]
            return max(times, default=0.0)
        found = self.fs.find(path, detail=True) if self.exists(path) else {}
        return max((info["LastModified"].timestamp() for info in found.values() if "LastModified" in info), default=0.0)

    def sweep_partials(self, path: str, older_than_seconds: float) -> list[str]:
        """Removes the temporary files of writers that died (their partial file unchanged for
        ``older_than_seconds``) under ``path``; a live writer keeps writing, so its file stays.
        Object stores have none: an upload that was not completed is not a visible object."""
        if not self.is_local or not os.path.isdir(path):
            return []
        swept, cutoff = [], time.time() - older_than_seconds
        for folder, _, names in os.walk(path):
            for name in names:
                candidate = os.path.join(folder, name)
                if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
                    with suppress(FileNotFoundError):
                        if os.stat(candidate).st_mtime < cutoff:
                            os.unlink(candidate)
                            swept.append(candidate)
        return swept

    @contextmanager
    def writing(self, path: str, replace: bool = False) -> Iterator[IO[bytes]]:
        """A binary file that appears under ``path`` only if the block completes without error."""
        if not replace and self.exists(path):
            raise FileExistsError(f"refusing to overwrite existing file {self.url(path)}")
        if self.is_local:
            with _local_writing(path, replace, self.private) as handle:
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
def _local_writing(path: str, replace: bool, private: bool) -> Iterator[IO[bytes]]:
    folder, name = os.path.split(path)
    _make_folders(folder, private)
    # A name of its own: two writers of the same file (two runs of one week) never share one.
    temp_path = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    handle = os.fdopen(descriptor, "wb")
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


def _make_folders(folder: str, private: bool) -> None:
    if not private:
        os.makedirs(folder, exist_ok=True)
        return
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for created in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(created, 0o700)


def fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
