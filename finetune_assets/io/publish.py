"""Publishing checked files: from the owner-only area where an export is written and checked into the
tree trainers read, each file under its final name only once its bytes are the ones the checks read,
and the whole set or none of it."""

import hashlib
import os
import posixpath
import secrets
import shutil
from dataclasses import dataclass, replace

from ..core.records import ExportManifest, WrittenFile
from .atomic_jsonl import file_digest_and_lines
from .export_writer import trainer_folder
from .store import COPY_BLOCK_BYTES, PARTIAL_SUFFIX, Store, fsync_directory

PUBLISHED_MODE = 0o644


class ChangedBeforePublishing(Exception):
    """A file no longer holds the bytes its checks read."""


@dataclass(frozen=True)
class Publication:
    """One file to publish: where it was written and checked, where trainers will read it, and the
    sha256 its checks read (None for a file no check reads: the card, dataset_info.json)."""

    source: str
    target: str
    sha256: str | None


def publish(source: Store, target: Store, files: list[Publication]) -> list[str]:
    """Publishes every file, or none: a failure removes what this call published before raising. A
    file already published with the same bytes (a retried step) is left as it is. Returns the paths
    published now."""
    done: list[str] = []
    # Folders this call creates (a new trainer folder) go again with the files if it fails.
    missing = sorted(
        {posixpath.dirname(file.target) for file in files if not target.exists(posixpath.dirname(file.target))}
    )
    try:
        for file in files:
            if target.exists(file.target):
                if file.sha256 is not None and _sha256(target, file.target) != file.sha256:
                    raise FileExistsError(f"{target.url(file.target)} already exists with other bytes")
                continue
            if not source.exists(file.source):
                raise ChangedBeforePublishing(
                    f"{source.url(file.source)} is missing or changed since it was written and checked: "
                    "nothing published"
                )
            if source.is_local and target.is_local:
                _publish_local(source, target, file)
            else:
                _publish_copy(source, target, file)
            done.append(file.target)
    except BaseException:
        for path in done:
            target.remove(path)
        for folder in reversed(missing):
            if target.exists(folder) and not target.files(folder) and not target.folders(folder):
                target.remove_tree(folder)
        raise
    return done


def _publish_local(source: Store, target: Store, file: Publication) -> None:
    """A hard link (no byte written again) under a hidden name, hashed there, then given its name: the
    name trainers see holds exactly the hashed bytes."""
    folder = posixpath.dirname(file.target)
    os.makedirs(folder, exist_ok=True)
    temp = posixpath.join(folder, f".{posixpath.basename(file.target)}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        try:
            os.link(file.source, temp)
        except OSError:  # another device, or a file system without hard links
            shutil.copyfile(file.source, temp)
        # Written owner-only where it was checked; trainers, possibly other users, read it here.
        os.chmod(temp, PUBLISHED_MODE)
        if file.sha256 is not None and (found := _sha256(target, temp)) != file.sha256:
            raise ChangedBeforePublishing(_changed(source, file, found))
        os.link(temp, file.target)  # refuses an existing name
        fsync_directory(folder)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _publish_copy(source: Store, target: Store, file: Publication) -> None:
    """Streamed and hashed as it is written; the object appears only if its bytes are the checked ones."""
    digest = hashlib.sha256()
    with source.open(file.source) as reader, target.writing(file.target) as writer:
        while block := reader.read(COPY_BLOCK_BYTES):
            digest.update(block)
            writer.write(block)
        if file.sha256 is not None and digest.hexdigest() != file.sha256:
            raise ChangedBeforePublishing(_changed(source, file, digest.hexdigest()))


def _changed(source: Store, file: Publication, found: str) -> str:
    return (
        f"{source.url(file.source)} is missing or changed since it was written and checked (sha256 {found}, "
        f"checked {file.sha256}): nothing published"
    )


def _sha256(store: Store, path: str) -> str:
    return file_digest_and_lines(store, path)[0]


def moved(file: WrittenFile, source: Store, target: Store) -> WrittenFile:
    """The same file at the same place within ``target`` as it has within ``source``."""
    path = target.path(posixpath.relpath(file.path, source.root))
    return replace(file, path=path, url=target.url(path))


def published_manifest(manifest: ExportManifest, pending: Store, exports: Store) -> ExportManifest:
    """The export as trainers find it once published: the same files, in the export tree."""
    if manifest.snapshot is None:
        return manifest
    return replace(
        manifest,
        snapshot=moved(manifest.snapshot, pending, exports),
        trainer_files=tuple(moved(file, pending, exports) for file in manifest.trainer_files),
    )


def located(manifest: ExportManifest, pending: Store, exports: Store) -> tuple[Store, ExportManifest]:
    """Where the export's files are now, and the manifest naming them there: pending until published."""
    if manifest.snapshot is None or pending.exists(manifest.snapshot.path):
        return pending, manifest
    return exports, published_manifest(manifest, pending, exports)


def publications(manifest: ExportManifest, pending: Store, exports: Store) -> list[Publication]:
    """Every file of the export: the snapshot and trainer files with the sha256 their checks read, then
    the card and dataset_info.json, written from counts, last (so a folder with them is complete)."""
    checked = [Publication(file.path, moved(file, pending, exports).path, file.sha256) for file in manifest.files]
    names = {file.path for file in manifest.files}
    folder = trainer_folder(manifest.snapshot.path)
    described = [
        Publication(path, exports.path(posixpath.relpath(path, pending.root)), None)
        for path in pending.files(folder)
        if path not in names and not posixpath.basename(path).startswith(".")
    ]
    return [*checked, *described]


def remove_pending(pending: Store, manifest: ExportManifest) -> None:
    """Once published (linked or copied), the export's place in the pending area is no longer needed."""
    if manifest.snapshot is not None:
        pending.remove(manifest.snapshot.path)
        pending.remove_tree(trainer_folder(manifest.snapshot.path))
