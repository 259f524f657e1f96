"""The registration gate: an export is registered only if this project's blocking checks passed on
exactly its bytes, whether export_registry runs after the checks, alone, or in a later run; and an
export's audit rows are inserted all together or not at all."""

import json
import time
from pathlib import Path

import pytest
from dagster import AssetSelection, DagsterInstance, materialize

import finetune_assets.db.registry
import finetune_assets.defs.checks.export_files as export_files_module

from ..seed import (
    ASSET_CHECKS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    materialize_week,
    pending_files,
    read_lines,
    resources,
)

EXPORT_ONLY = AssetSelection.assets(
    "successful_evidence", "coordinator_decisions", "repair_actions", "training_pairs", "jsonl_export"
) - AssetSelection.checks_for_assets("jsonl_export")
CHECKS_THEN_REGISTRY = AssetSelection.checks_for_assets("jsonl_export") | AssetSelection.assets("export_registry")
REGISTRY_ALONE = AssetSelection.assets("export_registry") - AssetSelection.checks_for_assets("export_registry")


def _week(url: str) -> None:
    week = Week(url)
    for n in range(4):
        week.incident(f"INC-{n}", {"alertname": f"Alert{n}"})
        week.evidence(f"INC-{n}", f"disk {n} full on worker-{n}", at(days=1, hours=n))
        week.execution(f"INC-{n}", ["rotate_logs"], at(days=1, hours=n))
    week.save()


def _run(url, tmp_path, selection, instance):
    return materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS], selection=selection, partition_key=WEEK,
        resources=resources(url, tmp_path), instance=instance, raise_on_error=False,
    )  # fmt: skip


def _failure(result) -> str:
    return str(
        next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE").event_specific_data.error
    )


def _line(lines: list[dict], n: int, **changes) -> str:
    record = {**lines[n], **changes}
    return json.dumps(record, ensure_ascii=False) + "\n"


# (what is appended to the written snapshot, the blocking check it breaks)
TAMPERING = {
    "duplicate": (lambda lines: _line(lines, 0), "no_duplicates"),
    "malformed": (lambda lines: '{"instruction": "unterminated\n', "loads_with_pyarrow"),
    "line count": (
        lambda lines: _line(lines, 0, input="one more line", metadata={**lines[0]["metadata"], "evidence_id": "new"}),
        "loads_with_pyarrow",
    ),
    "secret": (lambda lines: _line(lines, 1, input="key AKIAZ7Q3EXAMPLE4KEY1 in the log"), "no_secrets_survive"),
    "blank input": (
        lambda lines: _line(lines, 2, input="  ", metadata={**lines[2]["metadata"], "evidence_id": "blank"}),
        "records_are_well_formed",
    ),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_a_file_that_breaks_a_blocking_check_is_never_registered(database_url, tmp_path, kind):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    assert _run(database_url, tmp_path, EXPORT_ONLY, instance).success
    [snapshot] = pending_files(tmp_path)
    appended, check = TAMPERING[kind]
    with open(snapshot, "a", encoding="utf-8") as handle:
        handle.write(appended(read_lines(snapshot)))

    checked = _run(database_url, tmp_path, CHECKS_THEN_REGISTRY, instance)
    verdicts = {evaluation.check_name: evaluation.passed for evaluation in checked.get_asset_check_evaluations()}
    assert verdicts[check] is False
    assert "export_registry" not in {e.asset_key.to_user_string() for e in checked.get_asset_materialization_events()}
    assert audit_rows(database_url, export_type=None) == []
    assert export_files(tmp_path) == [] and not list((tmp_path / WEEK).rglob("*.*"))  # nothing for trainers
    assert snapshot.exists()  # no check deletes: the failed export stays where it was checked

    alone = _run(database_url, tmp_path, REGISTRY_ALONE, instance)
    assert not alone.success
    failed = _failure(alone).split("failed its blocking check(s) ")[1].split(": nothing registered")[0]
    assert check in failed.split(", ")
    assert audit_rows(database_url, export_type=None) == []
    assert export_files(tmp_path) == []


def test_registry_alone_after_a_failed_secret_check_registers_nothing_and_says_why(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "restart with signing seed Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    first = materialize_week(database_url, tmp_path, instance=instance, raise_on_error=False)
    assert not first.success
    alone = _run(database_url, tmp_path, REGISTRY_ALONE, instance)
    message = _failure(alone)
    assert "failed its blocking check(s) no_secrets_survive: nothing registered" in message
    assert audit_rows(database_url, export_type=None) == []


def test_bytes_changed_after_the_checks_passed_are_not_registered(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    assert _run(
        database_url, tmp_path, EXPORT_ONLY | AssetSelection.checks_for_assets("jsonl_export"), instance
    ).success
    [snapshot] = pending_files(tmp_path)
    data = snapshot.read_bytes()
    snapshot.write_bytes(data.replace(b"disk 1 full", b"disk 7 full"))  # same size, other bytes
    alone = _run(database_url, tmp_path, REGISTRY_ALONE, instance)
    message = _failure(alone)
    assert "is missing or changed since it was written and checked" in message
    assert "nothing published or registered" in message
    assert audit_rows(database_url, export_type=None) == []
    assert not list((tmp_path / WEEK).rglob("*.*"))  # not a file of the export reached the trainers' tree


def test_an_export_whose_checks_never_ran_is_not_registered(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    assert _run(database_url, tmp_path, EXPORT_ONLY, instance).success
    alone = _run(database_url, tmp_path, REGISTRY_ALONE, instance)
    assert "has not been checked: its blocking checks must pass before it is registered" in _failure(alone)
    assert audit_rows(database_url, export_type=None) == []


def test_a_checked_export_is_registered_by_a_later_run_once(database_url, tmp_path):
    _week(database_url)
    instance = DagsterInstance.ephemeral()
    assert _run(
        database_url, tmp_path, EXPORT_ONLY | AssetSelection.checks_for_assets("jsonl_export"), instance
    ).success
    assert _run(database_url, tmp_path, REGISTRY_ALONE, instance).success
    again = _run(database_url, tmp_path, REGISTRY_ALONE, instance)
    assert again.success
    rows = audit_rows(database_url, export_type=None)
    assert [row["export_type"] for row in rows] == ["evidence_snapshot", "alpaca_train", "alpaca_validation"][
        : len(rows)
    ]
    assert len({row["file_path"] for row in rows}) == len(rows) and rows[0]["file_path"] == str(
        export_files(tmp_path)[0]
    )


def test_a_fault_between_audit_rows_leaves_none_and_a_retry_inserts_all(database_url, tmp_path, monkeypatch):
    _week(database_url)
    real_insert, inserted = finetune_assets.db.registry._insert, []

    def fails_on_the_second_row(connection, row):
        inserted.append(row.export_type)
        if len(inserted) == 2:
            raise RuntimeError("the database went away between two rows")
        real_insert(connection, row)

    monkeypatch.setattr(finetune_assets.db.registry, "_insert", fails_on_the_second_row)
    instance = DagsterInstance.ephemeral()
    failed = materialize_week(database_url, tmp_path, instance=instance, raise_on_error=False)
    assert not failed.success and inserted == ["evidence_snapshot", "alpaca_train"]
    assert audit_rows(database_url, export_type=None) == []  # the first row went with the second
    # The files published for those rows went too: the trainers' tree holds nothing unregistered.
    assert not [path for path in (tmp_path / WEEK).rglob("*") if path.is_file()]
    assert pending_files(tmp_path)  # still checked and ready for the next try

    monkeypatch.setattr(finetune_assets.db.registry, "_insert", real_insert)
    assert _run(database_url, tmp_path, REGISTRY_ALONE, instance).success
    rows = audit_rows(database_url, export_type=None)
    assert len(rows) >= 2 and all(Path(row["file_path"]).is_file() for row in rows)
    assert not pending_files(tmp_path)  # published: the pending copy is gone


def test_a_trainer_listing_the_export_tree_during_a_run_whose_scanner_fails_sees_none_of_its_files(
    database_url, tmp_path, monkeypatch
):
    _week_with_a_secret(database_url)
    exports, seen = tmp_path / "exports", []
    checking = export_files_module.results_for_week

    def listing_while_checking(*args, **kwargs):
        # The files are written and about to be scanned: what would a trainer listing the tree see now?
        seen.extend(path for path in exports.rglob("*") if path.is_file())
        return checking(*args, **kwargs)

    monkeypatch.setattr(export_files_module, "results_for_week", listing_while_checking)
    result = materialize_week(database_url, exports, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    verdicts = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert verdicts["no_secrets_survive"] is False and not result.success
    assert pending_files(exports), "the export was written (where the checks read it)"
    assert seen == [] and not [path for path in exports.rglob("*") if path.is_file()]
    assert audit_rows(database_url, export_type=None) == []


def _week_with_a_secret(url: str) -> None:
    week = Week(url)
    week.evidence("INC-1", "restart with signing seed Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb", at(days=1))
    week.evidence("INC-2", "disk 2 full on worker-2", at(days=1, hours=1))
    for incident in ("INC-1", "INC-2"):
        week.execution(incident, ["restart"], at(days=1))
    week.save()


def test_an_export_never_published_is_swept_by_the_next_export_of_the_week_once_its_run_is_over(database_url, tmp_path):
    _week_with_a_secret(database_url)
    instance = DagsterInstance.ephemeral()
    assert not materialize_week(database_url, tmp_path, instance=instance, raise_on_error=False).success
    [unpublished] = pending_files(tmp_path)  # its checks failed: it holds a secret, in the staging store
    time.sleep(1.1)  # export names order by the second they were written; the sweep takes only older ones
    assert _run(database_url, tmp_path, EXPORT_ONLY, instance).success
    [current] = pending_files(tmp_path)  # the new export, waiting for its checks, is kept
    assert current != unpublished and not unpublished.exists() and not unpublished.with_suffix("").exists()


def test_an_unpublished_export_of_a_run_this_instance_does_not_know_is_kept_while_recent(database_url, tmp_path):
    # A run on another instance (a CLI run on a temporary one) may still be going: its export stays.
    _week_with_a_secret(database_url)
    materialize_week(database_url, tmp_path, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    [unpublished] = pending_files(tmp_path)
    assert _run(database_url, tmp_path, EXPORT_ONLY, DagsterInstance.ephemeral()).success
    assert unpublished in pending_files(tmp_path) and len(pending_files(tmp_path)) == 2
