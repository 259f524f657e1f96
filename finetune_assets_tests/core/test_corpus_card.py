"""A corpus version's id: its input files by content, its policy and its predecessor."""

from dataclasses import replace

from finetune_assets.core.corpus_card import CorpusInput, corpus_card, version_id
from finetune_assets.core.corpus_card import CorpusPolicy as Rules
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


def test_the_card_names_no_path_and_loads_its_files_by_config():
    files = [TrainerFile("v/alpaca.train.jsonl", "/x/v/alpaca.train.jsonl", 3, 10, "d" * 64, "alpaca", "train")]
    card = corpus_card("corpus-1", INPUTS, Rules(), {"num_perm": 128, "shingle_width": 3, "bands": 18, "rows": 7},
                       None, [], 0, files)  # fmt: skip
    assert "/exports/" not in card and "/x/v" not in card
    assert "- config_name: alpaca" in card and "path: alpaca.train.jsonl" in card
    assert "a" * 64 in card and "LSH (18 bands x 7 rows)" in card and "at least 0.85, computed exactly" in card
