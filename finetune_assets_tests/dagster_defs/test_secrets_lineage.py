"""Secrets through the whole lineage: the corpus in summaries, reasoning and executed steps, keyed in
one text and bare in another of the incident, in labels and evidence metadata; not one reaches a
written file, an audit row or the run's event log, and detect-secrets finds nothing in the files. A
pair the scanner still flags is withheld and the week goes on; too many withheld block the week."""

import json

from dagster import AssetCheckSeverity, DagsterInstance
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from finetune_assets.dagster_defs.resources import DatasetPolicy

from ..secrets_corpus import CLEAN, SECRETS
from ..seed import (
    Week,
    at,
    audit_rows,
    export_files,
    materialization_metadata,
    materialize_week,
    read_lines,
    staging_of,
)

ALL_FORMATS = DatasetPolicy(formats=["alpaca", "openai_chat", "sharegpt"], validation_fraction=0.2)


def _corpus_week(url: str) -> list[tuple[str, str]]:
    """Each secret in a summary, a reasoning or an action (by turns); some keyed in the summary and
    repeated bare in the reasoning, or the reverse; and the clean texts. Returns (where, value)."""
    week, placed = Week(url), []
    for n, secret in enumerate(SECRETS):
        incident = week.incident(f"INC-S{n:03d}", {"alertname": f"Leak{n % 9}"})
        where = ("summary", "reasoning", "action")[n % 3]
        summary = secret.text if where == "summary" else f"incident {n}: service degraded on worker-{n % 7}"
        reasoning = secret.text if where == "reasoning" else f"restart the affected pods (case {n})"
        action = secret.text if where == "action" else "kubectl rollout restart deploy/api"
        week.evidence(incident, summary, at(days=1, minutes=n))
        week.session(incident, {"reasoning": reasoning}, at(days=1, minutes=n))
        week.execution(incident, [{"action": action}], at(days=1, minutes=n))
        placed.append((where, secret.value))
    for n, (keyed_in, value) in enumerate([("summary", "Winter2026!pw"), ("reasoning", "Rotat3-Me-Now")]):
        incident = week.incident(f"INC-V{n}", {"alertname": "ByValue"})
        keyed, bare = f"login failed: password={value} for app", f"rotate the credential {value} everywhere"
        week.evidence(incident, keyed if keyed_in == "summary" else bare, at(days=2, minutes=n))
        week.session(incident, {"reasoning": bare if keyed_in == "summary" else keyed}, at(days=2, minutes=n))
        placed.append(("by value", value))
    for n, text in enumerate(CLEAN):
        incident = week.incident(f"INC-C{n:03d}", {"alertname": f"Clean{n % 5}"})
        week.evidence(incident, text, at(days=3, minutes=n))
        week.execution(incident, [{"action": "restart"}], at(days=3, minutes=n))
    week.save()
    return placed


def test_no_secret_of_the_corpus_reaches_a_file_a_row_or_the_event_log(postgres_url, tmp_path):
    placed = _corpus_week(postgres_url)
    instance = DagsterInstance.ephemeral()
    exports = tmp_path / "exports"
    result = materialize_week(postgres_url, exports, instance=instance, policy=ALL_FORMATS)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert materialization_metadata(result, "training_pairs")["count_withheld"] == 0

    files = [path for path in exports.rglob("*") if path.is_file()]
    assert len(files) >= 8  # the snapshot, six trainer files, the card and dataset_info.json
    written = "\n".join(path.read_text(encoding="utf-8") for path in files)
    rows = json.dumps(audit_rows(postgres_url, export_type=None), default=str, ensure_ascii=False)
    events = "\n".join(f"{entry.user_message} {entry.dagster_event}" for entry in instance.all_logs(result.run_id))
    leaked = [(where, value) for where, value in placed if value in written or value in rows or value in events]
    assert leaked == []

    with default_settings():
        oracle = SecretsCollection()
        for path in files:
            oracle.scan_file(str(path))
    assert oracle.json() == {}

    lines = read_lines(export_files(exports)[0])
    inputs = {line["input"] for line in lines}
    assert all(text.strip() in inputs for text in CLEAN)  # secret-free text passes untouched
    redacted = materialization_metadata(result, "training_pairs")["redacted_total"]
    assert redacted >= len(SECRETS) + 4  # and each by-value secret twice
    assert not list(staging_of(exports).glob("runs/*/*"))  # no staged source text after the run


def _events(instance, run_id: str) -> str:
    return "\n".join(f"{entry.user_message} {entry.dagster_event}" for entry in instance.all_logs(run_id))


def _secrets_verdict(result):
    [verdict] = [c for c in result.get_asset_check_evaluations() if c.check_name == "no_secrets_survive"]
    return verdict, {key: value.value for key, value in verdict.metadata.items()}


def _incident_week(url: str, flagged: int, clean: int):
    """``flagged`` incidents whose summary holds a token the scanner reads as a secret and no rule of
    the redactor names (high entropy, no key), and ``clean`` ordinary ones."""
    week, flagged_ids = Week(url), []
    for n in range(flagged):
        flagged_ids.append(
            week.evidence(
                f"INC-F{n}", f"restart with signing seed Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh{n}Jk0LmNb", at(days=1, minutes=n)
            )
        )
        week.execution(f"INC-F{n}", ["restart"], at(days=1, minutes=n))
    for n in range(clean):
        week.evidence(f"INC-C{n}", f"disk full on worker-{n}", at(days=2, minutes=n))
        week.execution(f"INC-C{n}", ["rotate_logs"], at(days=2, minutes=n))
    week.save()
    return flagged_ids


def test_one_flagged_pair_is_withheld_and_the_rest_of_the_week_is_exported_and_registered(database_url, tmp_path):
    [flagged] = _incident_week(database_url, flagged=1, clean=150)
    instance = DagsterInstance.ephemeral()
    exports = tmp_path / "exports"
    result = materialize_week(database_url, exports, instance=instance, policy=ALL_FORMATS)

    verdict, metadata = _secrets_verdict(result)
    assert verdict.passed is False and verdict.severity == AssetCheckSeverity.WARN
    assert (
        metadata["withheld"] == 1
        and flagged in metadata["withheld_pairs"]
        and "high_entropy" in metadata["withheld_pairs"]
    )
    lines = read_lines(export_files(exports)[0])
    assert len(lines) == 150 and flagged not in {line["metadata"]["evidence_id"] for line in lines}
    rows = audit_rows(database_url, export_type=None)
    assert len(rows) == 7  # the snapshot and six trainer files: registered
    for row in rows:
        assert row["metadata"]["withheld"] == [{"evidence_id": flagged, "findings": ["high_entropy"]}]
    everything = json.dumps(rows, default=str) + _events(instance, result.run_id)
    assert "Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh" not in everything + "".join(p.read_text() for p in export_files(exports))
    assert "1 pair(s) withheld" in _events(instance, result.run_id)


def test_a_week_with_more_withheld_than_the_limit_is_blocked_with_the_reason(database_url, tmp_path):
    flagged = _incident_week(database_url, flagged=3, clean=97)
    exports = tmp_path / "exports"
    policy = DatasetPolicy(formats=["alpaca"], quarantine_limit=0.02)
    result = materialize_week(database_url, exports, raise_on_error=False, policy=policy)

    verdict, metadata = _secrets_verdict(result)
    assert verdict.passed is False and verdict.severity == AssetCheckSeverity.ERROR
    assert "3 of 100 pairs withheld (3.00%), more than FINETUNE_QUARANTINE_LIMIT (2.00%)" in metadata["reason"]
    assert all(evidence_id in metadata["withheld_pairs"] for evidence_id in flagged)
    assert audit_rows(database_url, export_type=None) == []  # blocked: nothing registered
    assert [path for path in exports.rglob("*") if path.is_file()] == []


def test_a_written_file_the_scanner_flags_leaves_the_export_tree(postgres_url, tmp_path, monkeypatch):
    """The last guard: should a secret reach a written line anyway (here: the redactor is told to let
    one through), the check fails, the files go and nothing is registered."""
    from finetune_assets.core import join

    week = Week(postgres_url)
    week.evidence("INC-1", "login failed: password=Winter2026!pw", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    # Nothing withheld before writing, nothing redacted.
    monkeypatch.setattr(join, "scan_columns", lambda columns, candidates: [{} for _ in columns])
    monkeypatch.setattr(join.Redactor, "redact_incidents", lambda self, ids, columns, *_: dict(columns))
    exports = tmp_path / "exports"
    result = materialize_week(postgres_url, exports, raise_on_error=False, policy=ALL_FORMATS)

    verdict, metadata = _secrets_verdict(result)
    assert verdict.passed is False and verdict.severity == AssetCheckSeverity.ERROR
    assert metadata["found"] >= 1 and "written files" in metadata["reason"]
    assert [path for path in exports.rglob("*") if path.is_file()] == []
    assert audit_rows(postgres_url, export_type=None) == []


def test_a_secret_named_in_one_evidence_is_redacted_in_the_other_pairs_of_its_incident(postgres_url, tmp_path):
    week = Week(postgres_url)
    week.incident("INC-1", {"alertname": "DbLogin"})
    week.evidence("INC-1", "app log: login failed: password=PropPw-7731x", at(days=1))
    week.evidence("INC-1", "replica lag 40s on db-2", at(days=1, hours=1))
    week.session("INC-1", {"reasoning": "the leaked PropPw-7731x was rotated; lag recovered"}, at(days=1))
    week.execution("INC-1", [{"action": "rotate", "note": "PropPw-7731x revoked"}], at(days=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    exports = tmp_path / "exports"
    result = materialize_week(postgres_url, exports, instance=instance, policy=ALL_FORMATS)

    lines = read_lines(export_files(exports)[0])
    assert len(lines) == 2
    written = "".join(path.read_text() for path in exports.rglob("*") if path.is_file())
    assert "PropPw-7731x" not in written + _events(instance, result.run_id)
    assert all("[REDACTED:password]" in line["output"] for line in lines)


def test_evidence_metadata_and_labels_are_redacted_and_scanned(postgres_url, tmp_path):
    week = Week(postgres_url)
    week.incident("INC-1", {"alertname": "password=AlertPw-5512q", "note": "token: LabelTok-88zQ"})
    week.evidence(
        "INC-1",
        "cpu 97% on worker-1; rotated LabelTok-88zQ",
        at(days=1),
        schema_version="v1 secret=SchemaSec-4410k",
        playbook_id="pb-restart?api_key=PlaybookKey-9901m",
    )
    week.execution("INC-1", ["scale_out"], at(days=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    exports = tmp_path / "exports"
    result = materialize_week(postgres_url, exports, instance=instance, policy=ALL_FORMATS)
    assert all(check.passed for check in result.get_asset_check_evaluations())

    [line] = read_lines(export_files(exports)[0])
    assert line["metadata"]["alertname"] == "password=[REDACTED:password]"
    written = "".join(path.read_text() for path in exports.rglob("*") if path.is_file())
    rows = json.dumps(audit_rows(postgres_url, export_type=None), default=str)
    for value in ("AlertPw-5512q", "LabelTok-88zQ", "SchemaSec-4410k", "PlaybookKey-9901m"):
        assert value not in written + rows + _events(instance, result.run_id), value
