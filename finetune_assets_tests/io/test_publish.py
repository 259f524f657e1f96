"""Publishing checked files into the trainers' tree: the checked bytes under their final names, the
whole set or none, readable by trainers, and a retry that finds its files published leaves them."""

import hashlib
import os
import posixpath
import stat

import pytest

from finetune_assets.io.publish import ChangedBeforePublishing, Publication, publish
from finetune_assets.io.store import Store


def _written(store: Store, name: str, data: bytes) -> Publication:
    path = store.path("2026-11-09", name)
    store.write_text(path, data.decode())
    return Publication(path, path.replace(store.root, "", 1), hashlib.sha256(data).hexdigest())


@pytest.fixture
def stores(tmp_path):
    pending = Store.from_url(str(tmp_path / "staging" / "pending"), private=True)
    exports = Store.from_url(str(tmp_path / "exports"))
    exports.make_folder(exports.path("2026-11-09"))  # as jsonl_export prepares it: shared by the week's exports
    return pending, exports


def _to(exports: Store, file: Publication) -> Publication:
    return Publication(file.source, exports.path(file.target.lstrip("/")), file.sha256)


def test_checked_files_are_published_readable_by_trainers(stores):
    pending, exports = stores
    files = [_to(exports, _written(pending, name, b'{"a": 1}\n')) for name in ("x.jsonl", "y.jsonl")]
    published = publish(pending, exports, files)
    assert published == [file.target for file in files]
    for file in files:
        with open(file.target, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == file.sha256
        # Written owner-only where it was checked; published for trainers to read.
        assert stat.S_IMODE(os.stat(file.target).st_mode) == 0o644
    assert not [name for name in os.listdir(os.path.dirname(files[0].target)) if name.startswith(".")]


def test_a_changed_file_stops_the_publication_and_takes_back_what_was_published(stores):
    pending, exports = stores
    first = _to(exports, _written(pending, "x.jsonl", b'{"a": 1}\n'))
    second = _to(exports, _written(pending, "y.jsonl", b'{"b": 2}\n'))
    with open(second.source, "ab") as handle:
        handle.write(b'{"secret": "added after the checks"}\n')
    with pytest.raises(ChangedBeforePublishing, match="missing or changed since it was written and checked"):
        publish(pending, exports, [first, second])
    assert not [name for name in os.listdir(os.path.dirname(first.target))]  # neither file, no partial


def test_a_failure_in_a_new_folder_leaves_no_folder_for_trainers(stores):
    pending, exports = stores
    snapshot = _to(exports, _written(pending, "x.jsonl", b'{"a": 1}\n'))
    folder = pending.path("2026-11-09", "x")
    pending.write_text(posixpath.join(folder, "alpaca_train.jsonl"), '{"b": 2}\n')
    trainer = Publication(
        posixpath.join(folder, "alpaca_train.jsonl"),
        exports.path("2026-11-09", "x", "alpaca_train.jsonl"),
        hashlib.sha256(b"what the checks read").hexdigest(),
    )
    with pytest.raises(ChangedBeforePublishing):
        publish(pending, exports, [snapshot, trainer])
    assert os.listdir(exports.path("2026-11-09")) == []  # no snapshot, no trainer folder


def test_a_missing_file_publishes_nothing(stores):
    pending, exports = stores
    first = _to(exports, _written(pending, "x.jsonl", b'{"a": 1}\n'))
    gone = _to(exports, _written(pending, "y.jsonl", b'{"b": 2}\n'))
    os.unlink(gone.source)
    with pytest.raises(ChangedBeforePublishing, match="missing or changed"):
        publish(pending, exports, [first, gone])
    assert not exports.exists(first.target)


def test_a_retry_leaves_what_it_published_and_refuses_other_bytes_under_the_name(stores):
    pending, exports = stores
    file = _to(exports, _written(pending, "x.jsonl", b'{"a": 1}\n'))
    assert publish(pending, exports, [file]) == [file.target]
    assert publish(pending, exports, [file]) == []  # already there with these bytes
    other = Publication(file.source, file.target, hashlib.sha256(b"other").hexdigest())
    with pytest.raises(FileExistsError, match="already exists with other bytes"):
        publish(pending, exports, [other])
