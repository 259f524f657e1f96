"""The training corpus on PostgreSQL, from weeks registered through the real lineage: duplicates across
weeks, leak-free and stable sides, versions, what is left out, and the files loaded by HF datasets."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from datasets import load_dataset
from sqlalchemy import create_engine, text

from finetune_assets.core.splits import in_validation
from finetune_assets.dagster_defs import corpus_build
from finetune_assets.dagster_defs.resources import CorpusPolicy, DatasetPolicy

from ..corpus_weeks import DISK, KAFKA, Weeks, build_corpus, register_weeks
from ..seed import (
    ASSETS,
    LINEAGE_ASSETS,
    audit_rows,
    export_files,
    materialization_metadata,
    pending_files,
    read_lines,
    resources,
    source_database,
    staging_of,
)

W0, W1, W2, W3 = "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"


def read_text_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _corpus_rows(url: str) -> list[dict]:
    return [row for row in audit_rows(url, export_type=None) if row["export_type"].startswith("corpus_")]


def _corpus_folder(exports: Path, result) -> Path:
    return Path(materialization_metadata(result, "training_corpus")["path"])


def _shards(folder: Path, trainer_format: str, split: str) -> list[Path]:
    """A corpus version's shards of one side, week by week (a weekly export folder: its one file)."""
    single = folder / f"{trainer_format}.{split}.jsonl"
    return [single] if single.exists() else sorted((folder / f"{trainer_format}.{split}").glob("*.jsonl"))


def _sides(folder: Path, trainer_format: str = "alpaca") -> dict[str, str]:
    sides = {}
    for split in ("train", "validation"):
        for path in _shards(folder, trainer_format, split):
            for line in read_lines(path):
                sides[line["metadata"]["evidence_id"]] = split
    return sides


def _templated(url: str) -> Weeks:
    weeks = Weeks(url)
    weeks.add(W0, "disk-1", DISK.format(host="worker-1"))
    weeks.add(W0, "disk-2", DISK.format(host="worker-2"))
    weeks.add(W0, "kafka-0", KAFKA, alertname="KafkaConsumerLag", action="raise_probe_timeout")
    weeks.add(W0, "cpu-0", "HighCPU on search-7: a runaway regex in the query parser", alertname="HighCPU")
    weeks.add(W1, "disk-3", DISK.format(host="worker-3"))
    weeks.add(W1, "disk-4", DISK.format(host="worker-4"))
    weeks.add(W1, "kafka-1", KAFKA, alertname="KafkaConsumerLag", action="raise_probe_timeout")
    weeks.add(W1, "cert-1", "CertificateExpiring for api.example: renewed through cert-manager", alertname="Cert")
    weeks.add(W2, "disk-5", DISK.format(host="worker-5"))
    weeks.add(W2, "oom-2", "MemoryLeak in cart-api after the 3.2 release: rolled back", alertname="MemoryLeak")
    return weeks


def test_duplicates_across_weeks_go_and_the_earliest_copies_stay(postgres_url, tmp_path):
    weeks = _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0, W1, W2])
    result = build_corpus(postgres_url, tmp_path)

    metadata = materialization_metadata(result, "training_corpus")
    folder = _corpus_folder(tmp_path, result)
    kept = set(_sides(folder))
    ids = weeks.ids
    # The disk alerts differ in their host only: one template, of which the 3 earliest stay.
    assert kept == {ids[name] for name in ("disk-1", "disk-2", "disk-3", "kafka-0", "cpu-0", "cert-1", "oom-2")}
    assert (metadata["pairs_in"], metadata["exact_duplicates"], metadata["near_duplicates"]) == (10, 1, 2)
    assert metadata["kept"] == 7 == metadata["dagster/row_count"] and metadata["clusters"] == 1
    assert metadata["version"] == folder.name and folder.parent == tmp_path / "corpus"
    # Weeks are written side by side; the preview still shows the earliest weeks' kept lines first.
    preview = str(metadata["preview"])
    at = {name: preview.find(ids[name]) for name in ("disk-1", "disk-2", "kafka-0", "cpu-0", "disk-3", "oom-2")}
    assert max(at[name] for name in ("disk-1", "disk-2", "kafka-0", "cpu-0")) < at["disk-3"] and at["oom-2"] == -1
    card = (folder / "README.md").read_text()
    assert f"| {W0} | 4 | 0 | 0 | 0 | 4 |" in card and f"| {W1} | 4 | 1 | 1 | 0 | 2 |" in card
    assert f"| {W2} | 2 | 0 | 1 | 0 | 1 |" in card

    rows = audit_rows(postgres_url, export_type=None)
    corpus_rows = [row for row in rows if row["export_type"].startswith("corpus_")]
    [manifest] = [row for row in corpus_rows if row["export_type"] == "corpus_manifest"]
    shard_rows = [row for row in corpus_rows if row is not manifest]
    assert {row["export_type"] for row in shard_rows} <= {"corpus_alpaca_train", "corpus_alpaca_validation"}
    # One shard per week and side with kept pairs, each registered with its bytes and evidence ids.
    week_sides = [(row["metadata"]["week"], row["metadata"]["split"]) for row in shard_rows]
    assert len(set(week_sides)) == len(week_sides) and {week for week, _ in week_sides} == {W0, W1, W2}
    for row in shard_rows:
        path = Path(row["file_path"])
        assert path.parent.parent == folder and row["checksum_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert list(row["source_ids"]) == [line["metadata"]["evidence_id"] for line in read_lines(path)]
        assert row["metadata"]["corpus_version"] == folder.name and path.name.startswith(row["metadata"]["week"])
    listed = json.loads((folder / "manifest.json").read_text())["shards"]
    assert sorted(folder / entry["path"] for entry in listed) == sorted(Path(row["file_path"]) for row in shard_rows)
    assert manifest["checksum_sha256"] == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["in_both_sides"].value == 0
    assert check.metadata["shards_read_back"].value == len(shard_rows)


def test_a_near_duplicate_pair_of_two_groups_lands_on_the_side_of_its_earliest_member(postgres_url, tmp_path):
    fraction = 0.5
    groups = [f"Disk{n}" for n in range(40)]
    validation_group = next(group for group in groups if in_validation(group, fraction))
    train_group = next(group for group in groups if not in_validation(group, fraction))
    weeks = Weeks(postgres_url)
    weeks.add(W0, "early", DISK.format(host="worker-1"), alertname=validation_group)
    weeks.add(W1, "late", DISK.format(host="worker-2"), alertname=train_group)
    policy = DatasetPolicy(validation_fraction=fraction)
    register_weeks(postgres_url, tmp_path, [W0, W1], policy=policy)
    late_week_sides = _sides(next((tmp_path / W1).glob("finetune-*/")))
    assert late_week_sides == {weeks.ids["late"]: "train"}  # its own week put it in train

    result = build_corpus(postgres_url, tmp_path, policy=policy)
    assert _sides(_corpus_folder(tmp_path, result)) == {
        weeks.ids["early"]: "validation",
        weeks.ids["late"]: "validation",
    }


def test_a_version_built_twice_from_the_same_inputs_has_the_same_id_and_bytes(postgres_server, tmp_path):
    built = []
    for copy in ("a", "b"):
        url = source_database(postgres_server, f"corpus_twice_{copy}_{tmp_path.name[-8:].lower()}")
        _templated(url)
        exports = tmp_path / copy / "exports"
        register_weeks(url, exports, [W0, W1, W2])
        built.append(_corpus_folder(exports, build_corpus(url, exports)))
    first, second = built
    assert first.name == second.name
    names = sorted(str(path.relative_to(first)) for path in first.rglob("*") if path.is_file())
    assert names == sorted(str(path.relative_to(second)) for path in second.rglob("*") if path.is_file())
    assert {"README.md", "manifest.json", "dataset_info.json"} < set(names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_week_added_costs_that_week_only_and_earlier_pairs_keep_their_sides(postgres_url, tmp_path):
    weeks = _templated(postgres_url)
    weeks.add(W3, "disk-6", DISK.format(host="worker-6"))
    weeks.add(W3, "cpu-3", "HighCPU on search-9: the same runaway regex, a week later", alertname="HighCPU")
    policy = DatasetPolicy(validation_fraction=0.5)
    register_weeks(postgres_url, tmp_path, [W0, W1, W2], policy=policy)
    first = build_corpus(postgres_url, tmp_path, policy=policy)
    first_folder = _corpus_folder(tmp_path, first)
    before = {path: path.read_bytes() for path in first_folder.rglob("*") if path.is_file()}
    assert materialization_metadata(first, "training_corpus")["weeks_signed_now"] == 3
    assert materialization_metadata(first, "training_corpus")["weeks_planned_now"] == 3
    # The build took its staged files away, its run's folder with them (not left to the next build's sweep).
    assert not list((staging_of(tmp_path) / "corpus" / "runs").iterdir())

    register_weeks(postgres_url, tmp_path, [W3], policy=policy)
    second = build_corpus(postgres_url, tmp_path, policy=policy)
    metadata = materialization_metadata(second, "training_corpus")
    second_folder = _corpus_folder(tmp_path, second)
    assert metadata["weeks_signed_now"] == 1 and metadata["predecessor"] == first_folder.name
    assert metadata["weeks_planned_now"] == 1
    assert second_folder != first_folder
    assert {path: path.read_bytes() for path in first_folder.rglob("*") if path.is_file()} == before  # untouched
    # The weeks before are linked, not written again; only the new week's shards are registered.
    old_shards = {path.relative_to(first_folder) for path in first_folder.glob("*/*.jsonl")}
    for name in old_shards:
        assert (second_folder / name).stat().st_ino == (first_folder / name).stat().st_ino
    new_rows = [row for row in _corpus_rows(postgres_url) if row["metadata"]["corpus_version"] == second_folder.name]
    assert sorted(row["metadata"].get("week", "manifest") for row in new_rows) == [W3, "manifest"]
    assert metadata["shards_written"] == 1 and metadata["shards_linked"] == len(old_shards)
    [check] = second.get_asset_check_evaluations()
    assert check.passed and check.metadata["shards_read_back"].value == 1
    old, new = _sides(first_folder), _sides(second_folder)
    assert weeks.ids["disk-6"] not in new and weeks.ids["cpu-3"] in new  # the disk cluster kept its 3 earliest
    assert old.items() <= new.items()  # a week added removes no earlier pair and moves none

    # Nothing new: the latest version stands, and nothing is written.
    third = build_corpus(postgres_url, tmp_path, policy=policy)
    assert materialization_metadata(third, "training_corpus")["version"] == second_folder.name
    assert sorted(path.name for path in (tmp_path / "corpus").iterdir()) == sorted(
        [first_folder.name, second_folder.name]
    )


def test_a_version_planned_from_the_kept_plan_equals_one_planned_from_every_week(postgres_url, tmp_path):
    weeks = _templated(postgres_url)
    weeks.add(W3, "disk-6", DISK.format(host="worker-6"))
    weeks.add(W3, "kafka-3", KAFKA, alertname="KafkaConsumerLag", action="raise_probe_timeout")
    weeks.add(W3, "cert-3", "CertificateExpiring for api.example: renewed through cert-manager", alertname="Cert")
    policy = DatasetPolicy(validation_fraction=0.5)
    register_weeks(postgres_url, tmp_path, [W0, W1, W2], policy=policy)
    first = materialization_metadata(build_corpus(postgres_url, tmp_path, policy=policy), "training_corpus")
    register_weeks(postgres_url, tmp_path, [W3], policy=policy)
    added = materialization_metadata(build_corpus(postgres_url, tmp_path, policy=policy), "training_corpus")
    assert added["weeks_planned_now"] == 1
    folder = tmp_path / "corpus" / added["version"]
    files = {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}

    # The same version again, without the kept plan: every week is planned, from the first version's sides.
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        statement = "DELETE FROM finetune_exports WHERE metadata->>'corpus_version' = :version"
        connection.execute(text(statement), {"version": added["version"]})
    engine.dispose()
    shutil.rmtree(folder)
    plans = staging_of(tmp_path) / "corpus" / "plans"
    assert sorted(path.name for path in plans.iterdir()) == sorted([first["version"], added["version"]])
    for plan in plans.iterdir():
        shutil.rmtree(plan)
    again = materialization_metadata(build_corpus(postgres_url, tmp_path, policy=policy), "training_corpus")
    assert again["weeks_planned_now"] == 4 and again["version"] == added["version"]
    assert {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()} == files
    assert (again["kept"], again["near_duplicates"], again["exact_duplicates"]) == (
        added["kept"], added["near_duplicates"], added["exact_duplicates"]
    )  # fmt: skip


def test_the_plan_is_extended_only_from_the_same_first_weeks_and_only_the_latest_is_kept(postgres_url, tmp_path):
    weeks = _templated(postgres_url)
    weeks.add(W3, "disk-6", DISK.format(host="worker-6"))
    weeks.add("2026-11-23", "kafka-4", KAFKA, alertname="KafkaConsumerLag", action="raise_probe_timeout")
    staging = staging_of(tmp_path) / "corpus"

    def planned_now(**given) -> int:
        return materialization_metadata(build_corpus(postgres_url, tmp_path, **given), "training_corpus")[
            "weeks_planned_now"
        ]

    register_weeks(postgres_url, tmp_path, [W0, W2])
    assert planned_now() == 2
    register_weeks(postgres_url, tmp_path, [W1])  # an earlier week backfilled: not the same first weeks
    assert planned_now() == 3
    register_weeks(postgres_url, tmp_path, [W3])
    assert planned_now() == 1
    assert planned_now(corpus_policy=CorpusPolicy(near_duplicate_threshold=0.9)) == 4  # another policy
    weeks.add(W2, "cpu-2", "HighCPU on search-3: a regex backtracking on long queries", alertname="HighCPU")
    register_weeks(postgres_url, tmp_path, [W2])  # a week exported again, with a pair more
    assert planned_now(corpus_policy=CorpusPolicy(near_duplicate_threshold=0.9)) == 4

    register_weeks(postgres_url, tmp_path, ["2026-11-23"])
    assert planned_now(corpus_policy=CorpusPolicy(near_duplicate_threshold=0.9)) == 1
    newest = _corpus_rows(postgres_url)[-1]["metadata"]["corpus_version"]
    named = set(json.loads((staging / "plans" / newest / "plan.json").read_text())["pieces"])
    assert len(list((staging / "plans").iterdir())) == 2  # the one it extended, swept by the next build
    # Nothing new: no version, but the sweep before it keeps the latest plan only, and the sets it names.
    build_corpus(postgres_url, tmp_path, corpus_policy=CorpusPolicy(near_duplicate_threshold=0.9))
    assert [path.name for path in (staging / "plans").iterdir()] == [newest]
    assert {path.name.rsplit(".", 2)[0] for path in (staging / "kept_sets").iterdir()} == named


def test_a_plan_kept_under_another_exact_digest_is_planned_again(postgres_url, tmp_path, monkeypatch):
    """A kept plan holds its weeks' exact keys: extended with keys of another digest, a copy across
    the weeks would go unseen."""
    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0, W1])
    monkeypatch.setattr(corpus_build, "EXACT_DIGEST", "the digest of an earlier release")
    build_corpus(postgres_url, tmp_path)
    monkeypatch.undo()
    register_weeks(postgres_url, tmp_path, [W2])
    second = materialization_metadata(build_corpus(postgres_url, tmp_path), "training_corpus")
    assert second["weeks_planned_now"] == 3 and second["predecessor"] != "none"


def test_an_unregistered_week_is_left_out_and_the_last_n_weeks_can_be_chosen(postgres_url, tmp_path):
    from dagster import AssetSelection, DagsterInstance, materialize

    weeks = _templated(postgres_url)
    weeks.add(W3, "late-only", "PostgresReplicationLag on db-3: a long vacuum", alertname="PgLag")
    register_weeks(postgres_url, tmp_path, [W0, W1, W2])
    # W3 is exported but never registered (its registry step did not run).
    materialize(
        LINEAGE_ASSETS,
        selection=AssetSelection.assets(*[ASSETS[name] for name in ASSETS if name != "export_registry"]),
        partition_key=W3,
        resources=resources(postgres_url, tmp_path),
        instance=DagsterInstance.ephemeral(),
    )
    assert pending_files(tmp_path, W3) and not export_files(tmp_path, W3)  # written, checked, never published
    folder = _corpus_folder(tmp_path, build_corpus(postgres_url, tmp_path))
    assert weeks.ids["late-only"] not in _sides(folder)
    assert W3 not in (folder / "README.md").read_text()

    last_two = build_corpus(postgres_url, tmp_path, corpus_policy=CorpusPolicy(weeks=2, cluster_keep=0))
    card = (_corpus_folder(tmp_path, last_two) / "README.md").read_text()
    assert "- Weeks: 2 (2026-11-02 to 2026-11-09)" in card and "Near duplicates: off" in card


def test_the_corpus_loads_with_hf_datasets_in_each_format(postgres_url, tmp_path):
    _templated(postgres_url)
    policy = DatasetPolicy(formats=["alpaca", "openai_chat", "sharegpt"], validation_fraction=0.5)
    register_weeks(postgres_url, tmp_path, [W0, W1, W2], policy=policy)
    result = build_corpus(postgres_url, tmp_path, policy=policy)
    folder = _corpus_folder(tmp_path, result)
    metadata = materialization_metadata(result, "training_corpus")
    for trainer_format in ("alpaca", "openai_chat", "sharegpt"):
        dataset = load_dataset(str(folder), trainer_format, cache_dir=str(tmp_path / "hf-cache"))
        assert (
            dataset["train"].num_rows == metadata["train"] and dataset["validation"].num_rows == metadata["validation"]
        )
    # LLaMA-Factory: one dataset per format and side, the folder of its shards (it reads a folder whole).
    info = json.loads((folder / "dataset_info.json").read_text())
    assert len(info) == 6 and all((folder / entry["file_name"]).is_dir() for entry in info.values())
    chat = [json.loads(line) for path in _shards(folder, "openai_chat", "train") for line in read_text_lines(path)]
    alpaca = [line for path in _shards(folder, "alpaca", "train") for line in read_lines(path)]
    assert [line["messages"][1]["content"] for line in chat] == [line["input"] for line in alpaca]


def test_a_registered_file_changed_since_is_named_and_nothing_is_published(postgres_url, tmp_path):
    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0, W1])
    [snapshot] = [row for row in audit_rows(postgres_url) if row["metadata"]["partition_key"] == W1]
    path = Path(snapshot["file_path"])
    path.write_bytes(path.read_bytes().replace(b"worker-3", b"worker-X"))
    result = build_corpus(postgres_url, tmp_path, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert str(path) in message and f"audit row {snapshot['id']}" in message and "registered" in message
    assert not list((tmp_path / "corpus").glob("*/*.jsonl")) if (tmp_path / "corpus").exists() else True
    assert not [row for row in audit_rows(postgres_url, export_type=None) if row["export_type"].startswith("corpus_")]


def test_a_failed_registration_leaves_no_version_folder(postgres_url, tmp_path, monkeypatch):
    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0])

    def refuse(*_):
        raise RuntimeError("the database went away while registering")

    monkeypatch.setattr(corpus_build, "record_exports", refuse)
    result = build_corpus(postgres_url, tmp_path, raise_on_error=False)
    assert not result.success
    assert not [path for path in (tmp_path / "corpus").iterdir()]
    monkeypatch.undo()
    assert build_corpus(postgres_url, tmp_path).success  # the retry writes it whole


def test_the_check_fails_when_a_corpus_file_is_changed(postgres_url, tmp_path):
    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0, W1])
    folder = _corpus_folder(tmp_path, build_corpus(postgres_url, tmp_path))
    train = _shards(folder, "alpaca", "train")[-1]
    lines = train.read_bytes().split(b"\n")
    train.write_bytes(b"\n".join([lines[0], *lines]))  # a line twice
    result = build_corpus(postgres_url, tmp_path)  # up to date: only the check has work
    [check] = result.get_asset_check_evaluations()
    problems = check.metadata["problems"].value
    assert not check.passed and "sha256" in problems and "repeat an input and output" in problems


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_a_bad_corpus_policy_fails_before_any_work(postgres_url, tmp_path, threshold):
    launchpad = {"resources": {"corpus_policy": {"config": {"near_duplicate_threshold": threshold}}}}
    result = build_corpus(postgres_url, tmp_path, run_config=launchpad, raise_on_error=False)
    assert not result.success
    [failure] = [event for event in result.all_events if event.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert "near_duplicate_threshold\n  accepted: a number above 0 and at most 1" in str(
        failure.event_specific_data.error
    )
    assert not (tmp_path / "corpus").exists()


def test_two_builds_at_once_take_turns_and_write_one_version(postgres_url, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from dagster import DagsterInstance

    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0, W1, W2])
    folders = [tmp_path / f"instance-{n}" for n in range(2)]
    instances = [DagsterInstance.local_temp(str(folder)) for folder in folders if not folder.mkdir()]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda instance: build_corpus(postgres_url, tmp_path, instance=instance), instances))
    assert all(result.success for result in results)
    versions = {materialization_metadata(result, "training_corpus")["version"] for result in results}
    notes = [materialization_metadata(result, "training_corpus").get("note", "") for result in results]
    assert len(versions) == 1 and sum(note.startswith("up to date") for note in notes) == 1
    assert len(list((tmp_path / "corpus").iterdir())) == 1
    corpus_rows = [
        row for row in audit_rows(postgres_url, export_type=None) if row["export_type"].startswith("corpus_")
    ]
    assert len({row["file_path"] for row in corpus_rows}) == len(corpus_rows)


def test_a_build_waiting_for_the_lock_gives_up_at_the_statement_timeout(postgres_url, tmp_path):
    from finetune_assets.db.connection import Database, PermanentDatabaseError, Timeouts
    from finetune_assets.db.corpus_registry import one_build_at_a_time

    holder = Database(postgres_url)
    waiter = Database(postgres_url, timeouts=Timeouts(statement=1))
    with one_build_at_a_time(holder):
        with pytest.raises(PermanentDatabaseError, match="FINETUNE_DB_STATEMENT_TIMEOUT=1 s"):
            with one_build_at_a_time(waiter):
                pass


def test_the_sensor_asks_for_a_build_once_per_registration(postgres_url, tmp_path):
    from dagster import DagsterInstance, RunRequest, build_sensor_context

    from finetune_assets.definitions import build_definitions

    definitions = build_definitions({})
    sensor = definitions.resolve_sensor_def("training_corpus_after_export")
    assert sensor.job_name == "training_corpus_job" and sensor.default_status.value == "RUNNING"
    instance = DagsterInstance.ephemeral()
    context = build_sensor_context(instance=instance, definitions=definitions)
    assert not list(sensor.evaluate_tick(context).run_requests)  # nothing registered yet

    _templated(postgres_url)
    register_weeks(postgres_url, tmp_path, [W0], instance=instance)
    tick = sensor.evaluate_tick(context)
    [request] = tick.run_requests
    assert isinstance(request, RunRequest) and request.run_key.startswith("export_registry-")
    context.update_cursor(tick.cursor)
    assert not list(sensor.evaluate_tick(context).run_requests)  # seen already
    register_weeks(postgres_url, tmp_path, [W1], instance=instance)
    [again] = sensor.evaluate_tick(context).run_requests
    assert again.run_key != request.run_key
