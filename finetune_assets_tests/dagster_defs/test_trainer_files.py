"""Trainer files next to the snapshot: formats, a leak-free split, the card and dataset_info.json."""

import hashlib
import json
import shutil
from pathlib import Path

import datasets
import pyarrow.json as pj
import pytest

from finetune_assets.core.pairs import INSTRUCTION
from finetune_assets.dagster_defs.resources import DatasetPolicy
from finetune_assets.io.store import Store
from finetune_assets.io.trainer_files import TrainerFileSet

from ..seed import Week, at, audit_rows, export_files, materialize_week, read_lines

ALL_FORMATS = DatasetPolicy(formats=["alpaca", "openai_chat", "sharegpt"], validation_fraction=0.3)
OPENAI_TOKEN_LIMIT = 16_385


def _alerts_week(url: str, week_start_days: float = 0, alerts: int = 12, per_alert: int = 5) -> None:
    week = Week(url)
    for a in range(alerts):
        for n in range(per_alert):
            incident = week.incident(f"INC-{week_start_days}-{a}-{n}", {"alertname": f"Alert{a}"})
            week.evidence(
                incident,
                f"alert {a} case {n}: disk 9{n}% on worker-{a}",
                at(days=week_start_days + 1, minutes=a * 10 + n),
            )
            week.execution(
                incident, [{"action": f"rotate_logs --keep {n}"}], at(days=week_start_days + 1, minutes=a * 10 + n)
            )
    week.save()


def _folder(tmp_path, week="2026-11-09") -> Path:
    [snapshot] = export_files(tmp_path, week)
    return snapshot.with_suffix("")


def openai_format_errors(lines: list[dict]) -> dict:
    """The checks of OpenAI's chat fine-tuning data-preparation guide, written out here."""
    errors = {}

    def count(kind):
        errors[kind] = errors.get(kind, 0) + 1

    for example in lines:
        if not isinstance(example, dict):
            count("data_type")
            continue
        messages = example.get("messages")
        if not messages:
            count("missing_messages_list")
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                count("message_missing_key")
            if any(key not in ("role", "content", "name", "function_call", "weight") for key in message):
                count("message_unrecognized_key")
            if message.get("role") not in ("system", "user", "assistant", "function"):
                count("unrecognized_role")
            content = message.get("content")
            if not content or not isinstance(content, str):
                count("missing_content")
        if not any(message.get("role") == "assistant" for message in messages):
            count("example_missing_assistant_message")
        # A token is at least one byte, so bytes bound the token count from above, with no tokenizer.
        if sum(len(m["content"].encode("utf-8")) + 4 for m in messages) + 3 > OPENAI_TOKEN_LIMIT:
            count("over_token_limit")
    return errors


def test_every_format_and_split_is_written_and_loads(database_url, tmp_path):
    _alerts_week(database_url)
    materialize_week(database_url, tmp_path, policy=ALL_FORMATS)
    folder = _folder(tmp_path)
    snapshot = read_lines(export_files(tmp_path)[0])

    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(
        ["README.md", "dataset_info.json"]
        + [f"{f}.{s}.jsonl" for f in ALL_FORMATS.formats for s in ("train", "validation")]
    )
    for path in folder.glob("*.jsonl"):
        assert pj.read_json(path).num_rows == len(read_lines(path))

    train, validation = read_lines(folder / "alpaca.train.jsonl"), read_lines(folder / "alpaca.validation.jsonl")
    assert len(train) + len(validation) == len(snapshot) == 60
    train_groups = {line["metadata"]["alertname"] for line in train}
    validation_groups = {line["metadata"]["alertname"] for line in validation}
    assert train_groups and validation_groups and not train_groups & validation_groups
    # Split lines are the snapshot's lines, in the snapshot's order.
    assert [line for line in snapshot if line in train] == train

    openai_train = read_lines(folder / "openai_chat.train.jsonl")
    assert openai_format_errors(openai_train + read_lines(folder / "openai_chat.validation.jsonl")) == {}
    assert [m["content"] for m in openai_train[0]["messages"]] == [INSTRUCTION, train[0]["input"], train[0]["output"]]
    sharegpt = read_lines(folder / "sharegpt.validation.jsonl")
    assert sharegpt[0]["conversations"][0] == {"from": "human", "value": validation[0]["input"]}
    assert sharegpt[0]["system"] == INSTRUCTION


def test_each_file_has_its_audit_row_and_the_snapshot_stays_the_core_export(database_url, tmp_path):
    _alerts_week(database_url)
    materialize_week(database_url, tmp_path, policy=ALL_FORMATS)
    rows = audit_rows(database_url, export_type=None)
    assert [row["export_type"] for row in rows] == ["evidence_snapshot"] + [
        f"{f}_{s}" for f in ALL_FORMATS.formats for s in ("train", "validation")
    ]
    snapshot_ids = list(rows[0]["source_ids"])
    for row in rows:
        data = Path(row["file_path"]).read_bytes()
        assert (row["record_count"], row["size_bytes"]) == (data.count(b"\n"), len(data))
        assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    by_type = {row["export_type"]: row for row in rows}
    train_ids = [line["metadata"]["evidence_id"] for line in read_lines(Path(by_type["alpaca_train"]["file_path"]))]
    assert list(by_type["alpaca_train"]["source_ids"]) == train_ids == list(by_type["sharegpt_train"]["source_ids"])
    assert sorted(train_ids + list(by_type["openai_chat_validation"]["source_ids"])) == sorted(snapshot_ids)
    assert by_type["openai_chat_validation"]["metadata"]["split_key"] == "alertname"


def test_the_card_and_dataset_info_describe_the_files(database_url, tmp_path):
    _alerts_week(database_url)
    materialize_week(database_url, tmp_path, policy=ALL_FORMATS)
    folder = _folder(tmp_path)
    card = (folder / "README.md").read_text(encoding="utf-8")
    for path in [export_files(tmp_path)[0], *folder.glob("*.jsonl")]:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in card
    assert "[2026-11-09T00:00:00+08:00, 2026-11-16T00:00:00+08:00)" in card and "by `alertname`, 30% of groups" in card
    assert "- config_name: openai_chat" in card

    # The folder stands alone: copied (or uploaded) by itself, everything it names is inside it.
    alone = tmp_path / "elsewhere" / folder.name
    shutil.copytree(folder, alone)
    info = json.loads((alone / "dataset_info.json").read_text(encoding="utf-8"))
    assert len(info) == 6 and "../" not in (alone / "README.md").read_text() + json.dumps(info)
    for entry in info.values():
        path = alone / entry["file_name"]
        assert path.parent == alone
        first = read_lines(path)[0]
        if entry.get("formatting") == "sharegpt":
            assert entry["columns"]["messages"] in first
        else:
            assert set(entry["columns"].values()) <= set(first)
    loaded = datasets.load_dataset(str(alone), "openai_chat", cache_dir=str(tmp_path / "hf-cache"))
    assert set(loaded) == {"train", "validation"}
    assert loaded["train"].num_rows == len(read_lines(alone / "openai_chat.train.jsonl"))


def test_the_split_is_identical_across_reruns_and_weeks(database_url, tmp_path):
    _alerts_week(database_url, week_start_days=0)
    _alerts_week(database_url, week_start_days=7)
    first, second = tmp_path / "first", tmp_path / "second"
    materialize_week(database_url, first, policy=ALL_FORMATS)
    materialize_week(database_url, second, policy=ALL_FORMATS)
    materialize_week(database_url, first, week="2026-11-16", policy=ALL_FORMATS)
    for name in ("alpaca.train.jsonl", "openai_chat.validation.jsonl"):
        assert (_folder(first) / name).read_bytes() == (_folder(second) / name).read_bytes()

    def sides(folder):
        return {
            line["metadata"]["alertname"]: split
            for split in ("train", "validation")
            for line in read_lines(folder / f"alpaca.{split}.jsonl")
        }

    assert sides(_folder(first)) == sides(_folder(first, "2026-11-16"))


def test_a_failure_mid_way_leaves_no_trainer_file(tmp_path):
    store = Store.from_url(str(tmp_path))
    with pytest.raises(RuntimeError):
        with TrainerFileSet(store, store.path("2026-11-09", "finetune-x"), ["alpaca", "sharegpt"]) as files:
            files.add_text("README.md", "card")
            raise RuntimeError("disk full")
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_an_existing_folder_is_never_replaced(tmp_path):
    folder = tmp_path / "finetune-x"
    folder.mkdir()
    (folder / "alpaca.train.jsonl").write_text("{}\n")
    with pytest.raises(FileExistsError):
        with TrainerFileSet(Store.from_url(str(tmp_path)), str(folder), ["alpaca"]):
            pass
    assert (folder / "alpaca.train.jsonl").read_text() == "{}\n"


def test_two_weeks_load_together_with_hf_datasets_in_every_format(database_url, tmp_path):
    # One week of whole-second timestamps, one with fractions: the shape that once split the two into
    # timestamp and string columns, and failed the second week.
    week = Week(database_url)
    for n in range(6):
        week.incident(f"A-{n}", {"alertname": f"Alert{n}"})
        week.evidence(f"A-{n}", f"week one, alert {n}", at(days=-6, hours=n))
        week.execution(f"A-{n}", [{"action": f"fix {n}"}], at(days=-6, hours=n))
        week.incident(f"B-{n}", {"alertname": f"Alert{n}"})
        week.evidence(f"B-{n}", f"week two, alert {n}", at(days=1, hours=n, seconds=0.25))
        week.execution(f"B-{n}", [{"action": f"fix {n}"}], at(days=1, hours=n))
    week.save()
    policy = DatasetPolicy(formats=["alpaca", "openai_chat", "sharegpt"], validation_fraction=0.0)
    weeks = ["2026-11-02", "2026-11-09"]
    for key in weeks:
        materialize_week(database_url, tmp_path, week=key, policy=policy)

    cache = str(tmp_path / "hf-cache")
    snapshots = [str(export_files(tmp_path, key)[0]) for key in weeks]
    loaded = datasets.load_dataset("json", data_files=snapshots, split="train", cache_dir=cache)
    assert loaded.num_rows == 12
    assert loaded.features["metadata"]["collected_at"].dtype == "string"
    stamps = [row["metadata"]["collected_at"] for row in loaded]
    assert "2026-11-03T00:00:00.000000+08:00" in stamps and "2026-11-10T00:00:00.250000+08:00" in stamps
    for trainer_format in policy.formats:
        files = [str(export_files(tmp_path, key)[0].with_suffix("") / f"{trainer_format}.train.jsonl") for key in weeks]
        assert datasets.load_dataset("json", data_files=files, split="train", cache_dir=cache).num_rows == 12
