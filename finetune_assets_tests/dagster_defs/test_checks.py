"""Secrets seeded into a week never reach a file, a row, a preview or a log; the checks read what was
written and keep a bad export out of the registry."""

import json
import re

from dagster import AssetSelection, DagsterInstance, materialize
from sqlalchemy import create_engine, update

from finetune_assets.dagster_defs.resources import DatasetPolicy
from finetune_assets.db.schema import finetune_exports

from ..seed import (
    ASSET_CHECKS,
    ASSETS,
    LINEAGE_ASSETS,
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    materialization_metadata,
    materialize_week,
    resources,
)

# The secrets of the issue, each a value that must not appear anywhere once the week is exported.
SECRETS = {
    "password": "Hunter2-Pa55!",
    "url_credentials": "Sup3rS3cretDb",
    "authorization": "dGVzdHVzZXI6dGVzdHBhc3M",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMtYm90In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "aws_access_key_id": "AKIAZ7Q3EXAMPLE4KEY1",
    "aws_secret_access_key": "Xq9vT2wLmN8pR4sK7yB3cF6hJ1dG5zA0eU2iO9qW",
    "github_token": "ghp_Zq8Xw7Vc6Bn5Ml4Kj3Hg2Fd1Sa0Pq9Ow8Ie7Ur6",
    "gitlab_token": "glpat-Xy9Zw8Vu7Ts6Rq5Po4Nm",
    "slack_token": "xoxb-2048-4096-Q1w2E3r4T5y6U7i8",
    "private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "email": "sre.oncall@aiops.example.com",
    "token": "tok-4f9a-77c1-secret",
    "api_key": "ak_live_51Hx8Kq2",
}
SUMMARIES = [
    f"DB login failed: password={SECRETS['password']} for user app",
    f"connection string postgres://app:{SECRETS['url_credentials']}@db-1.prod:5432/orders timed out",
    f"curl -H 'Authorization: Basic {SECRETS['authorization']}' returned 500",
    f"session cookie {SECRETS['jwt']} expired",
    f"env AWS_ACCESS_KEY_ID={SECRETS['aws_access_key_id']} aws_secret_access_key={SECRETS['aws_secret_access_key']}",
    f"git clone https://github.com/acme/ops with {SECRETS['github_token']} and {SECRETS['gitlab_token']}",
    f"slack notify failed with {SECRETS['slack_token']}",
    f"mounted key\n-----BEGIN PRIVATE KEY-----\n{SECRETS['private_key']}\nAbCdEf==\n"
    "-----END PRIVATE KEY-----\nthen crashed",
    f"paged {SECRETS['email']} about node worker-3 (10.0.3.7)",
]


def independent_scan(text: str) -> list[str]:
    """The test's own scanner: the seeded values themselves, plus shapes written here, not in the package."""
    found = [kind for kind, value in SECRETS.items() if value in text]
    shapes = [
        r"AKIA[A-Z0-9]{16}",
        r"ghp_\w{30,}",
        r"glpat-\w{10,}",
        r"xox[bp]-[\w-]{10,}",
        r"eyJ\w+\.eyJ\w+",
        r"BEGIN PRIVATE KEY-----\n\w",
        r"://\w+:\w+@",
        r"[\w.]+@aiops\.example\.com",
    ]
    return found + [shape for shape in shapes if re.search(shape, text)]


def _secret_week(url: str) -> None:
    week = Week(url)
    for n, summary in enumerate(SUMMARIES):
        incident = week.incident(f"INC-{n}", {"alertname": f"Alert{n % 4}"})
        week.evidence(incident, summary, at(days=1, hours=n))
        week.session(incident, {"reasoning": f"rotate token={SECRETS['token']} then retry"}, at(days=1, hours=n))
        week.execution(incident, [{"action": f"reset api_key={SECRETS['api_key']}"}], at(days=1, hours=n))
    week.save()


def _everything_written(exports, database_url, instance, run_id) -> str:
    """Every export file, card and manifest, every audit row, every log entry and event (metadata) of the run."""
    files = [
        path.read_text(encoding="utf-8") for path in exports.rglob("*") if path.suffix in (".jsonl", ".md", ".json")
    ]
    rows = [json.dumps(row, default=str, ensure_ascii=False) for row in audit_rows(database_url, export_type=None)]
    logs = [f"{entry.user_message} {entry.dagster_event}" for entry in instance.all_logs(run_id)]
    return "\n".join(files + rows + logs)


def test_a_week_full_of_secrets_exports_none_of_them(database_url, tmp_path):
    _secret_week(database_url)
    exports, instance = tmp_path / "exports", DagsterInstance.ephemeral()
    policy = DatasetPolicy(formats=["alpaca", "openai_chat", "sharegpt"])
    result = materialize_week(database_url, exports, instance=instance, policy=policy)

    written = _everything_written(exports, database_url, instance, result.run_id)
    assert re.search(r"redacted \d+ secret\(s\)", written)  # the transform's log line was scanned too
    # The extract's preview shows its source text only by its length; the pairs' preview shows it redacted.
    assert "chars> |" in materialization_metadata(result, "successful_evidence")["preview"]
    assert "[REDACTED:" in materialization_metadata(result, "training_pairs")["preview"]
    assert "[REDACTED:password]" in written and "[REDACTED:private_key]" in written
    assert independent_scan(written) == []
    # Host names and addresses stay: the model needs them.
    assert "db-1.prod:5432" in written and "10.0.3.7" in written

    redacted = materialization_metadata(result, "training_pairs")
    for kind in (
        "password",
        "url_credentials",
        "authorization",
        "jwt",
        "aws_access_key_id",
        "aws_secret_access_key",
        "github_token",
        "gitlab_token",
        "slack_token",
        "private_key",
        "email",
    ):
        assert redacted[f"redacted_{kind}"] >= 1, kind
    assert redacted["redacted_token"] == redacted["redacted_api_key"] == len(SUMMARIES)
    [row] = audit_rows(database_url)
    assert row["metadata"]["redactions"]["email"] == 1
    assert row["metadata"]["redactions"]["token"] == len(SUMMARIES)
    assert all(check.passed for check in result.get_asset_check_evaluations())


def test_a_secret_the_redactor_misses_blocks_the_registry(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "restart with signing seed Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()

    result = materialize_week(database_url, tmp_path, raise_on_error=False)
    verdicts = {check.check_name: check.passed for check in result.get_asset_check_evaluations()}
    assert verdicts["no_secrets_survive"] is False
    assert verdicts["records_are_well_formed"] is True
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "jsonl_export" in materialized and "export_registry" not in materialized
    assert audit_rows(database_url, export_type=None) == []

    # The team adds a pattern for it, by configuration only; the next run passes and registers.
    policy = DatasetPolicy(extra_redaction_patterns={"signing_seed": r"(signing seed )\S+"})
    result = materialize_week(database_url, tmp_path, policy=policy)
    [export] = [path for path in export_files(tmp_path) if "Zx9Q" not in path.read_text()]
    assert "signing seed [REDACTED:signing_seed]" in export.read_text()
    assert len(audit_rows(database_url)) == 1


def test_a_tampered_audit_row_fails_its_check(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "cpu 97%", at(days=1))
    week.execution("INC-1", ["restart"], at(days=1))
    week.save()
    instance = DagsterInstance.ephemeral()
    materialize_week(database_url, tmp_path, instance=instance)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(finetune_exports).values(record_count=finetune_exports.c.record_count + 1))
    engine.dispose()

    # Re-registering finds the (tampered) row by its file and leaves it; then the check reads it back.
    result = materialize(
        [*LINEAGE_ASSETS, *ASSET_CHECKS],
        selection=AssetSelection.assets(ASSETS["export_registry"]),
        partition_key=WEEK,
        resources=resources(database_url, tmp_path),
        instance=instance,
    )
    assert materialization_metadata(result, "export_registry")["inserted"] is False
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == "audit_rows_match_files"]
    assert evaluation.passed is False
    assert "record_count is 2, the file says 1" in evaluation.metadata["problems"].value
