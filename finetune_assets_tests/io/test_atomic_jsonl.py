"""The JSONL writer: exact bytes, and a file that appears only when whole."""

import hashlib

import pytest

from finetune_assets.core.line_formats import encode_line
from finetune_assets.io.atomic_jsonl import AtomicJsonlWriter, file_digest_and_lines
from finetune_assets.io.store import Store


def test_encode_line_keeps_key_order_and_non_ascii():
    line = encode_line({"b": "中文 🚀", "a": "x\u2028y", "c": {"k": None}})
    assert line == '{"b": "中文 🚀", "a": "x\u2028y", "c": {"k": null}}\n'.encode("utf-8")


def test_writer_reports_count_size_and_sha256(tmp_path):
    lines = [encode_line({"n": n}) for n in range(3)]
    store = Store.from_url(str(tmp_path))
    with AtomicJsonlWriter(store, store.path("week", "export.jsonl")) as writer:
        writer.write_lines(b"".join(lines[:2]), 2)
        writer.write_lines(lines[2], 1)
    data = (tmp_path / "week" / "export.jsonl").read_bytes()
    assert writer.result.records == 3
    assert writer.result.size_bytes == len(data)
    assert writer.result.url == str(tmp_path / "week" / "export.jsonl")
    digest = hashlib.sha256(data).hexdigest()
    assert writer.result.sha256 == digest and file_digest_and_lines(store, writer.path) == (digest, 3)


def test_a_failure_mid_write_leaves_no_file_at_all(tmp_path):
    target = tmp_path / "export.jsonl"
    with pytest.raises(RuntimeError):
        with AtomicJsonlWriter(Store.from_url(str(tmp_path)), str(target)) as writer:
            writer.write_lines(encode_line({"n": 1}), 1)
            raise RuntimeError("disk went away")
    assert list(tmp_path.iterdir()) == []


def test_the_file_is_invisible_under_its_final_name_until_complete(tmp_path):
    target = tmp_path / "export.jsonl"
    with AtomicJsonlWriter(Store.from_url(str(tmp_path)), str(target)) as writer:
        writer.write_lines(encode_line({"n": 1}), 1)
        assert not target.exists()
    assert target.exists()


def test_an_existing_export_is_never_overwritten(tmp_path):
    target = tmp_path / "export.jsonl"
    target.write_bytes(b"earlier export\n")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        with AtomicJsonlWriter(Store.from_url(str(tmp_path)), str(target)) as writer:
            writer.write_lines(encode_line({"n": 1}), 1)
    assert target.read_bytes() == b"earlier export\n"


def test_an_empty_file_can_be_dropped_instead_of_published(tmp_path):
    with AtomicJsonlWriter(Store.from_url(str(tmp_path)), str(tmp_path / "empty.jsonl"), skip_empty=True):
        pass
    assert list(tmp_path.iterdir()) == []
