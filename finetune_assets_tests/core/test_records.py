"""The records steps hand each other: one JSON form each, read back equal, versioned."""

import json
from collections import Counter

import pytest

from finetune_assets.core.records import CheckVerdict, ExportManifest, PairStats, TrainerFile, WrittenFile

SNAPSHOT = WrittenFile("/e/2026-11-09/f.jsonl", "/e/2026-11-09/f.jsonl", 3, 120, "a" * 64)
TRAIN = TrainerFile(
    "/e/2026-11-09/f/alpaca.train.jsonl", "s3://b/f/alpaca.train.jsonl", 2, 80, "b" * 64, "alpaca", "train"
)


def _manifest(**changes) -> ExportManifest:
    values = dict(
        export="finetune-2026-11-09-20261116T020000Z-r1",
        partition_key="2026-11-09",
        window_start="2026-11-09T00:00:00+08:00",
        window_end="2026-11-16T00:00:00+08:00",
        run_id="r1",
        stats=PairStats(5, 1, 1, 3, Counter({"email": 2})),
        split_key="alertname",
        validation_fraction=0.1,
        formats=("alpaca",),
        source_ids_path="/s/ids.parquet",
        snapshot=SNAPSHOT,
        trainer_files=(TRAIN,),
    )
    return ExportManifest(**{**values, **changes})


@pytest.mark.parametrize("manifest", [_manifest(), _manifest(snapshot=None, trainer_files=())])
def test_a_manifest_reads_back_equal(manifest):
    assert ExportManifest.from_json(manifest.to_json()) == manifest


def test_a_manifest_of_another_version_is_refused():
    values = json.loads(_manifest().to_json())
    with pytest.raises(ValueError, match="version 3; this code reads 2"):
        ExportManifest.from_json(json.dumps({**values, "version": 3}))


def test_files_are_the_snapshot_then_the_trainer_files_and_none_without_pairs():
    assert _manifest().files == [SNAPSHOT, TRAIN]
    assert _manifest(snapshot=None, trainer_files=()).files == []
    assert TRAIN.export_type == "alpaca_train" and TRAIN.name == "alpaca.train.jsonl"


def test_stats_keep_their_counts_and_sort_the_redactions():
    stats = PairStats(5, 1, 1, 3, Counter({"token": 1, "email": 2}))
    assert PairStats.from_json(stats.to_json()) == stats
    assert list(json.loads(stats.to_json())["redactions"]) == ["email", "token"]


def test_a_verdict_reads_back_and_names_the_blocking_checks_that_failed():
    verdict = CheckVerdict("e", "r", {"a": True, "b": False, "c": False}, ("a", "b"), {"f.jsonl": "0" * 64})
    assert CheckVerdict.from_json(verdict.to_json()) == verdict
    assert verdict.failed_blocking == ["b"]
    missing = CheckVerdict("e", "r", {"a": True}, ("a", "b"), {})
    assert missing.failed_blocking == ["b"]  # a blocking check that never ran has not passed
