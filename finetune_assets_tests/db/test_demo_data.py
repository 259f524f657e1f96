"""The embedded default: the demo database and the one-command quick start."""

from collections import Counter
from datetime import date

from sqlalchemy import create_engine, text

from finetune_assets.cli.demo import main
from finetune_assets.core.weeks import TAIPEI
from finetune_assets.db.demo_data import build_demo_database, demo_rows


def test_demo_rows_mix_outcomes_languages_and_missing_context():
    rows = demo_rows("2026-11-09")
    outcomes = Counter(row["verification_result"] for row in rows["incident_evidence"])
    assert outcomes["success"] > outcomes["failed"] > 0 and outcomes[None] > 0
    summaries = [row["evidence_summary"] for row in rows["incident_evidence"]]
    assert any("節點" in s for s in summaries) and any("CPU usage" in s for s in summaries)
    assert any(not s.strip() for s in summaries)
    incidents = {row["id"] for row in rows["incidents"]}
    with_sessions = {row["incident_id"] for row in rows["agent_sessions"]}
    with_executions = {row["incident_id"] for row in rows["auto_repair_executions"]}
    assert incidents - with_sessions and incidents - with_executions and incidents - with_sessions - with_executions
    assert len({s for s in summaries}) < len(summaries)


def test_the_demo_reaches_back_to_the_readme_week_whatever_the_latest_week():
    for last_week in ("2026-11-09", "2026-11-23", "2027-06-07"):
        weeks = {row["collected_at"].astimezone(TAIPEI).date() for row in demo_rows(last_week)["incident_evidence"]}
        assert min(weeks) < date(2026, 10, 12) and any(date(2026, 11, 9) <= day < date(2026, 11, 16) for day in weeks)
        assert max(weeks) >= date.fromisoformat(last_week)


def test_demo_database_is_deterministic(tmp_path):
    for name in ("one.sqlite", "two.sqlite"):
        build_demo_database(tmp_path / name, "2026-11-09")
    counts = []
    for name in ("one.sqlite", "two.sqlite"):
        engine = create_engine(f"sqlite:///{tmp_path / name}")
        with engine.connect() as connection:
            counts.append(
                connection.execute(text("SELECT count(*), min(id), max(collected_at) FROM incident_evidence")).one()
            )
        engine.dispose()
    assert counts[0] == counts[1] and counts[0][0] > 200


def test_quick_start_builds_the_demo_and_exports_a_week(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIOPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("FINETUNE_EXPORT_PATH", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["--week", "2026-11-09"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    [export] = list((tmp_path / ".finetune_demo" / "exports" / "2026-11-09").glob("*.jsonl"))
    data = export.read_text(encoding="utf-8")
    rows = data.count("\n")
    assert printed[0] == "built the demo AIOps database .finetune_demo/aiops_demo.sqlite"
    assert printed[1].startswith(f"week 2026-11-09: {rows} training pairs written to {export} (")
    assert printed[2].endswith(f"{export.with_suffix('')}/")
    assert printed[3].startswith("checks passed: records_are_well_formed, ")
    assert (export.with_suffix("") / "README.md").exists()
    assert rows > 10
    # The demo's logs carry a password, a token and an e-mail address; none is exported.
    assert "[REDACTED:url_credentials]" in data and "[REDACTED:email]" in data
    assert "Winter2026!" not in data and "oncall-sre@example.com" not in data
