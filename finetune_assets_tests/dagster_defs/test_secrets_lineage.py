"""The secrets corpus through the whole lineage on PostgreSQL: in summaries, reasoning and executed
steps, keyed on one side and bare on the other; not one secret reaches a written file, an audit row or
the run's event log, detect-secrets finds nothing in the files, and a file in which the scanner finds
a secret is taken out of the export tree."""

import json

from dagster import DagsterInstance
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


def test_a_file_in_which_the_scanner_finds_a_secret_leaves_the_export_tree(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "restart with signing seed Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    evidence_id = week.evidence("INC-2", "disk full on worker-2", at(days=1, hours=1))
    week.execution("INC-2", ["rotate_logs"], at(days=1, hours=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    exports = tmp_path / "exports"
    result = materialize_week(database_url, exports, instance=instance, raise_on_error=False, policy=ALL_FORMATS)

    [verdict] = [c for c in result.get_asset_check_evaluations() if c.check_name == "no_secrets_survive"]
    assert verdict.passed is False
    assert [path for path in exports.rglob("*") if path.is_file()] == []  # snapshot, trainer files, card: gone
    metadata = {key: value.value for key, value in verdict.metadata.items()}
    assert "high_entropy" in metadata["where"] and metadata["found_high_entropy"] == 1
    flagged = [line for line in metadata["evidence_ids"].splitlines() if line.startswith("- ")]
    assert len(flagged) == 1 and flagged[0] != f"- {evidence_id}"
    assert "Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb" not in json.dumps(metadata)
    assert "removed" in metadata and audit_rows(database_url, export_type=None) == []
