"""A corpus version's id (its input files by content, its policy and its predecessor), its card,
dataset_info.json and manifest."""

import json
from dataclasses import replace

from finetune_assets.core.corpus_card import CorpusInput, CorpusShard, corpus_card, dataset_info, manifest, version_id
from finetune_assets.core.corpus_card import CorpusRules as Rules
from finetune_assets.core.records import TrainerFile

INPUTS = [
    CorpusInput("2026-11-02", "/exports/a.jsonl", "a" * 64, 10, 1, "alertname", 0.1),
    CorpusInput("2026-11-09", "/exports/b.jsonl", "b" * 64, 12, 4, "alertname", 0.1),
]
POLICY = Rules().as_dict()


def test_the_same_inputs_policy_and_predecessor_give_the_same_id():
    moved = [
        replace(item, file_url=f"s3://bucket{item.file_url}", audit_row_id=item.audit_row_id + 100) for item in INPUTS
    ]
    assert version_id(INPUTS, POLICY, None) == version_id(list(reversed(moved)), POLICY, None)
    assert version_id(INPUTS, POLICY, None).startswith("corpus-")


def test_other_bytes_another_policy_or_another_predecessor_give_another_id():
    first = version_id(INPUTS, POLICY, None)
    assert first != version_id([INPUTS[0], replace(INPUTS[1], sha256="c" * 64)], POLICY, None)
    assert first != version_id(INPUTS, Rules(cluster_keep=2).as_dict(), None)
    assert first != version_id(INPUTS, POLICY, "corpus-0000")
    assert first != version_id(INPUTS[:1], POLICY, None)


def _shard(week: str, split: str, registered_as: str | None) -> CorpusShard:
    name = f"alpaca.{split}/{week}-0123456789abcdef.jsonl"
    file = TrainerFile(f"/x/v/{name}", f"/x/v/{name}", 3, 10, "d" * 64, "alpaca", split)
    return CorpusShard(week, name, file, registered_as)


SHARDS = [
    _shard("2026-11-02", "train", "/x/old/alpaca.train/2026-11-02-0123456789abcdef.jsonl"),
    _shard("2026-11-09", "train", None),
    _shard("2026-11-09", "validation", None),
]


def test_the_card_names_no_path_and_loads_its_shards_by_config():
    card = corpus_card("corpus-1", INPUTS, Rules(), {"num_perm": 128, "shingle_width": 3, "bands": 18, "rows": 7},
                       None, [], 0, SHARDS)  # fmt: skip
    assert "/exports/" not in card and "/x/" not in card
    assert "- config_name: alpaca" in card
    assert "split: train\n    path: alpaca.train/*.jsonl" in card and "path: alpaca.validation/*.jsonl" in card
    assert "a" * 64 in card and "LSH (18 bands x 7 rows)" in card and "at least 0.85, computed exactly" in card
    assert "| 2026-11-02 | alpaca | train | 3 |" in card and "| linked |" in card and "| written |" in card


def test_dataset_info_names_a_folder_per_side_and_the_manifest_every_shard_without_a_path():
    info = json.loads(dataset_info("corpus-1", SHARDS))
    assert [entry["file_name"] for entry in info.values()] == ["alpaca.train", "alpaca.validation"]
    listed = json.loads(manifest("corpus-1", None, INPUTS, SHARDS))
    assert [entry["path"] for entry in listed["shards"]] == [shard.name for shard in SHARDS]
    assert "/x/" not in json.dumps(listed)
