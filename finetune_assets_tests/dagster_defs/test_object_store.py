"""The lineage on an S3-compatible object store (a real S3-protocol server on loopback): export,
re-export, audit rows with full URLs, a failed upload, wrong credentials, the multiprocess executor,
and the file read back as a trainer would, with pyarrow over the object store."""

import hashlib

from dagster import DagsterInstance

import finetune_assets.io.export_writer
from finetune_assets.dagster_defs.resources import ExportStorage

from ..s3_server import REGION, LocalS3, read_like_a_trainer
from ..seed import WEEK, Week, at, audit_rows, materialization_metadata, materialize_week, small_week


def storage_on(s3: LocalS3, bucket: str, secret: str | None = None) -> ExportStorage:
    return ExportStorage(
        export_path=f"s3://{bucket}/exports",
        staging_path=f"s3://{bucket}/staging",
        s3_endpoint_url=s3.endpoint_url,
        s3_region=REGION,
        s3_access_key_id=s3.access_key_id,
        s3_secret_access_key=secret or s3.secret_access_key,
    )


STAGED_ASSETS = ("coordinator_decisions", "repair_actions", "successful_evidence", "training_pairs")


def _object(s3: LocalS3, url: str) -> bytes:
    bucket, key = url.removeprefix("s3://").split("/", 1)
    return s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_week_exports_to_the_bucket_with_its_audit_rows(s3_server, s3_bucket, postgres_url):
    ids = small_week(postgres_url)
    result = materialize_week(postgres_url, storage_on(s3_server, s3_bucket))

    rows = audit_rows(postgres_url, export_type=None)
    assert [row["export_type"] for row in rows] == ["evidence_snapshot", "alpaca_train", "alpaca_validation"]
    snapshot = rows[0]
    assert snapshot["file_path"].startswith(f"s3://{s3_bucket}/exports/{WEEK}/finetune-{WEEK}-")
    for row in rows:
        stored = _object(s3_server, row["file_path"])
        assert (row["size_bytes"], row["record_count"]) == (len(stored), stored.count(b"\n"))
        assert row["checksum_sha256"] == hashlib.sha256(stored).hexdigest()
    assert list(snapshot["source_ids"]) == ids
    assert materialization_metadata(result, "jsonl_export")["published_to"] == snapshot["file_path"]
    assert materialization_metadata(result, "jsonl_export")["path"].startswith(f"s3://{s3_bucket}/staging/pending/")
    assert all(check.passed for check in result.get_asset_check_evaluations())

    table = read_like_a_trainer(s3_server, snapshot["file_path"])
    assert table.num_rows == 3 and table.column("input").to_pylist()[0] == "disk 90% on worker-0，清理日誌"
    keys = s3_server.keys(s3_bucket)
    # The intermediates persist in the staging prefix, one object per asset and run, never in the exports;
    # the export's record stays (its ids, once registered, too).
    staged = sorted(key for key in keys if key.endswith(".parquet"))
    assert staged == [f"staging/assets/{asset}/{WEEK}/{result.run_id}.parquet" for asset in STAGED_ASSETS]
    record = f"staging/exports/{WEEK}/{snapshot['file_path'].rsplit('/', 1)[1].removesuffix('.jsonl')}/"
    assert {key.removeprefix(record) for key in keys if key.startswith(record)} == {"manifest.json", "checks.json"}
    assert any(key.endswith("/README.md") for key in keys) and not any(".partial" in key for key in keys)


def test_a_re_export_writes_a_new_object_and_keeps_the_first(s3_server, s3_bucket, postgres_url):
    small_week(postgres_url)
    storage = storage_on(s3_server, s3_bucket)
    instance = DagsterInstance.ephemeral()
    materialize_week(postgres_url, storage, instance=instance)
    first = audit_rows(postgres_url)[0]["file_path"]
    first_bytes = _object(s3_server, first)
    materialize_week(postgres_url, storage, instance=instance)
    urls = [row["file_path"] for row in audit_rows(postgres_url)]
    assert len(urls) == 2 and urls[0] == first != urls[1]
    assert _object(s3_server, urls[1]) == first_bytes == _object(s3_server, first)


def test_an_upload_that_fails_mid_way_leaves_no_object_and_no_audit_row(
    s3_server, s3_bucket, postgres_url, monkeypatch
):
    week = Week(postgres_url)
    for n in range(9_000):  # two batches; the first alone is several upload parts
        week.evidence(f"INC-{n}", f"incident {n}: " + "日誌輪替失敗，磁碟滿載。" * 80, at(days=1, seconds=n))
        week.execution(f"INC-{n}", ["rotate_logs"], at(days=1, seconds=n))
    week.save()
    real_line_column, calls = finetune_assets.io.export_writer.line_column, []

    def fails_on_the_second_batch(batch, trainer_format):
        calls.append(batch.num_rows)
        if len(calls) == 2:
            raise ConnectionResetError("connection to the object store reset by peer")
        return real_line_column(batch, trainer_format)

    monkeypatch.setattr(finetune_assets.io.export_writer, "line_column", fails_on_the_second_batch)
    result = materialize_week(postgres_url, storage_on(s3_server, s3_bucket), raise_on_error=False)

    assert not result.success and len(calls) == 2
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "jsonl_export" and "connection to the object store reset" in str(
        failure.event_specific_data.error
    )
    assert [key for key in s3_server.keys(s3_bucket) if not key.startswith("staging/")] == []
    assert s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads") is None
    assert audit_rows(postgres_url, export_type=None) == []


def test_wrong_credentials_fail_with_a_clear_message_and_no_secret(postgres_url):
    small_week(postgres_url)
    with LocalS3(check_credentials=True) as s3:
        bucket = s3.new_bucket()
        wrong = "wrong-secret-" + "x" * 20
        result = materialize_week(postgres_url, storage_on(s3, bucket, secret=wrong), raise_on_error=False)
        assert not result.success
        failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
        message = str(failure.event_specific_data.error)
        assert f"s3://{bucket}/staging" in message
        assert "signature we calculated does not match" in message
        assert wrong not in message and wrong not in str(result.all_events)
        assert s3.keys(bucket) == []
    assert audit_rows(postgres_url, export_type=None) == []


def test_the_corpus_is_built_from_the_bucket_and_written_to_it(s3_server, s3_bucket, postgres_url):
    from ..corpus_weeks import DISK, Weeks, build_corpus, register_weeks

    weeks = Weeks(postgres_url)
    weeks.add("2026-11-02", "disk-1", DISK.format(host="worker-1"))
    weeks.add("2026-11-09", "disk-2", DISK.format(host="worker-2"))
    weeks.add("2026-11-09", "cpu", "HighCPU on search-7: a runaway regex", alertname="HighCPU")
    storage = storage_on(s3_server, s3_bucket)
    register_weeks(postgres_url, storage, ["2026-11-02", "2026-11-09"])
    result = build_corpus(postgres_url, storage)

    metadata = materialization_metadata(result, "training_corpus")
    assert metadata["path"] == f"s3://{s3_bucket}/exports/corpus/{metadata['version']}"
    assert (metadata["pairs_in"], metadata["kept"]) == (3, 3)
    rows = [row for row in audit_rows(postgres_url, export_type=None) if row["export_type"].startswith("corpus_")]
    assert rows and all(row["file_path"].startswith(metadata["path"] + "/") for row in rows)
    for row in rows:
        stored = _object(s3_server, row["file_path"])
        assert row["checksum_sha256"] == hashlib.sha256(stored).hexdigest()
    train = next(row for row in rows if row["export_type"] == "corpus_alpaca_train")
    assert read_like_a_trainer(s3_server, train["file_path"]).num_rows == train["record_count"]
    keys = s3_server.keys(s3_bucket)
    assert any(key.startswith("staging/corpus/signatures/2026-11-09/") for key in keys)
    assert [check.passed for check in result.get_asset_check_evaluations()] == [True]

    # A week added: the earlier weeks' shards are copied inside the bucket, only the new one is registered.
    weeks.add("2026-11-16", "oom", "MemoryLeak in cart-api after the 3.2 release", alertname="MemoryLeak")
    register_weeks(postgres_url, storage, ["2026-11-16"])
    added = build_corpus(postgres_url, storage)
    second = materialization_metadata(added, "training_corpus")
    assert (second["shards_written"], second["shards_linked"]) == (1, 2)
    every = audit_rows(postgres_url, export_type=None)
    new_rows = [row for row in every if row["file_path"].startswith(second["path"])]
    assert sorted(row["export_type"] for row in new_rows) == ["corpus_alpaca_train", "corpus_manifest"]
    for shard in [row for row in rows if row["export_type"] != "corpus_manifest"]:
        copied = shard["file_path"].replace(metadata["path"], second["path"])
        assert _object(s3_server, copied) == _object(s3_server, shard["file_path"])
    assert [check.passed for check in added.get_asset_check_evaluations()] == [True]
