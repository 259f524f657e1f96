"""One store for a local folder and an S3 bucket: a file appears whole or not at all, and an earlier
file is never replaced."""

import pytest

from finetune_assets.io.store import UPLOAD_BLOCK_BYTES, Store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Store:
    if request.param == "local":
        return Store.from_url(str(tmp_path / "exports"))
    s3 = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    options = {
        "key": s3.access_key_id,
        "secret": s3.secret_access_key,
        "client_kwargs": {"endpoint_url": s3.endpoint_url, "region_name": "us-east-1"},
    }
    return Store.from_url(f"s3://{bucket}/exports", **options)


def test_a_file_appears_only_when_whole(store):
    path = store.path("2026-11-09", "a.jsonl")
    with store.writing(path) as handle:
        handle.write(b"x" * (UPLOAD_BLOCK_BYTES + 1))  # more than one upload part
        handle.write(b"\n")
        assert not store.exists(path)
    assert store.size(path) == UPLOAD_BLOCK_BYTES + 2


def test_a_failure_mid_way_leaves_nothing(store, request):
    path = store.path("2026-11-09", "a.jsonl")
    with pytest.raises(RuntimeError):
        with store.writing(path) as handle:
            handle.write(b"x" * (2 * UPLOAD_BLOCK_BYTES + 1))  # parts already uploaded
            raise RuntimeError("the network went away")
    assert not store.exists(path)
    assert store.fs.find(store.root) == []
    if not store.is_local:
        bucket = store.root.split("/")[0]
        assert (
            request.getfixturevalue("s3_server").client().list_multipart_uploads(Bucket=bucket).get("Uploads") is None
        )


def test_an_existing_file_is_never_replaced_unless_asked(store):
    path = store.path("a.jsonl")
    store.write_text(path, "first\n")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        store.write_text(path, "second\n")
    assert store.read_text(path) == "first\n"
    store.write_text(path, "staging may be replaced\n", replace=True)
    assert store.read_text(path) == "staging may be replaced\n"


def test_urls_name_the_file_as_people_and_tools_do(store, tmp_path):
    path = store.path("2026-11-09", "a.jsonl")
    if store.is_local:
        assert store.url(path) == str(tmp_path / "exports" / "2026-11-09" / "a.jsonl")
    else:
        assert store.url(path).startswith("s3://finetune-") and store.url(path).endswith("/exports/2026-11-09/a.jsonl")
