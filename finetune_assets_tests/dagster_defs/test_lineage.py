"""The whole lineage materialized in process for a week, against SQLite and a real PostgreSQL 15."""

import hashlib

from finetune_assets.core.pairs import INSTRUCTION

from ..seed import (
    WEEK,
    Week,
    at,
    audit_rows,
    export_files,
    materialization_metadata,
    materialize_week,
    read_lines,
    staging_of,
)


def _mixed_week(url: str) -> dict[str, str]:
    week = Week(url)
    week.incident("INC-A", {"alertname": "KubePodCrashLooping", "severity": "critical"})
    week.incident("INC-B", {"severity": "warning"})
    week.incident("INC-C", {"alertname": "  "})
    ids = {
        "a": week.evidence("INC-A", "  Pod payments-api OOMKilled 14 次 \n", at(days=1), schema_version=None),
        "b": week.evidence("INC-B", "disk 93% on worker-3", at(days=2), playbook_id=None),
        "c": week.evidence("INC-C", "no reasoning and no repair", at(days=3)),
        "d": week.evidence("INC-D", "no incident row at all", at(days=4)),
        "failed": week.evidence("INC-A", "not verified", at(days=1, hours=1), result="failed"),
        "blank": week.evidence("INC-A", "   ", at(days=1, hours=2)),
        # SQL's trim() keeps this one (it strips spaces only); Python's strip() finds it blank.
        "unicode_blank": week.evidence("INC-A", "\u3000\t\n\x1c", at(days=1, hours=2, minutes=30)),
        "null": week.evidence("INC-A", None, at(days=1, hours=3)),
        "case": week.evidence("INC-A", "wrong case", at(days=1, hours=4), result="Success"),
    }
    week.session("INC-A", {"reasoning": "舊的推理"}, at(days=1, minutes=1))
    week.session("INC-A", {"reasoning": "OOM：提高 memory limit"}, at(days=1, minutes=5))
    week.session("INC-A", {"reasoning": "diagnoser, not coordinator"}, at(days=1, minutes=9), role="diagnoser")
    week.execution("INC-A", [{"action": "restart_pod"}], at(days=1, minutes=6))
    week.execution("INC-B", ["rotate_logs"], at(days=2, minutes=6), success=False)
    week.session("INC-D", "純文字推理", at(days=4, minutes=1))
    week.save()
    return ids


def test_lineage_exports_the_rules_for_a_week(database_url, tmp_path):
    ids = _mixed_week(database_url)
    result = materialize_week(database_url, tmp_path)

    [export] = export_files(tmp_path)
    lines = read_lines(export)
    assert [line["metadata"]["evidence_id"] for line in lines] == [ids["a"], ids["b"], ids["d"]]
    assert lines[0] == {
        "instruction": INSTRUCTION,
        "input": "Pod payments-api OOMKilled 14 次",
        "output": "[AI 決策]\nOOM：提高 memory limit\n\n[執行動作]\nrestart_pod\n\n[執行結果] 成功",
        "metadata": {
            "evidence_id": ids["a"],
            "incident_id": "INC-A",
            "alertname": "KubePodCrashLooping",
            "verification_result": "success",
            "collected_at": "2026-11-10T00:00:00.000000+08:00",
            "schema_version": "",
            "matched_playbook_id": "pb-restart",
        },
    }
    assert lines[1]["output"] == "[執行動作]\nrotate_logs\n\n[執行結果] 失敗"
    assert lines[1]["metadata"]["alertname"] == "INC-B"
    assert lines[2]["output"] == "[AI 決策]\n純文字推理"
    assert lines[2]["metadata"]["alertname"] == "INC-D"

    [row] = audit_rows(database_url)
    data = export.read_bytes()
    assert row["export_type"] == "evidence_snapshot"
    assert row["source_table"] == "incident_evidence"
    assert row["file_path"] == str(export.resolve())
    assert row["record_count"] == 3 == data.count(b"\n")
    assert row["size_bytes"] == len(data)
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert list(row["source_ids"]) == [ids["a"], ids["b"], ids["d"]]
    assert row["metadata"]["partition_key"] == WEEK
    assert row["metadata"]["window_start"] == "2026-11-09T00:00:00+08:00"
    assert row["metadata"]["window_end"] == "2026-11-16T00:00:00+08:00"
    assert row["metadata"]["run_id"] == result.run_id
    assert (row["metadata"]["selected"], row["metadata"]["skipped"]) == (4, 1)
    assert (row["metadata"]["duplicates"], row["metadata"]["exported"]) == (0, 3)

    export_metadata = materialization_metadata(result, "jsonl_export")
    assert export_metadata["dagster/row_count"] == 3
    assert export_metadata["sha256"] == row["checksum_sha256"]
    # Written and checked where trainers do not look, then published where they do.
    assert export_metadata["published_to"] == str(export.resolve()) == row["file_path"]
    assert export_metadata["path"] == str(staging_of(tmp_path) / "pending" / WEEK / export.name)
    assert materialization_metadata(result, "export_registry")["path"] == str(export.resolve())
    assert export_metadata["size_bytes"] == len(data)
    assert "Pod payments-api" in export_metadata["preview"]
    assert materialization_metadata(result, "successful_evidence")["dagster/row_count"] == 4
    assert materialization_metadata(result, "successful_evidence")["blank_summaries_skipped"] == 1
    assert materialization_metadata(result, "coordinator_decisions")["dagster/row_count"] == 2
    assert materialization_metadata(result, "coordinator_decisions")["unparseable_json"] == 0
    assert materialization_metadata(result, "repair_actions")["dagster/row_count"] == 2
    assert materialization_metadata(result, "training_pairs")["count_skipped_no_output"] == 1

    lineage = materialization_metadata(result, "training_pairs")["dagster/column_lineage"].deps_by_column
    [source] = lineage["input"]
    assert (source.asset_key.to_user_string(), source.column_name) == ("incident_evidence", "evidence_summary")
    assert {dep.asset_key.to_user_string() for dep in lineage["output"]} == {"agent_sessions", "auto_repair_executions"}
    assert "input" in export_metadata["dagster/column_lineage"].deps_by_column


def test_file_bytes_are_utf8_with_keys_in_order_and_a_final_newline(database_url, tmp_path):
    _mixed_week(database_url)
    materialize_week(database_url, tmp_path)
    data = export_files(tmp_path)[0].read_bytes()
    assert data.endswith(b"\n")
    first = data.split(b"\n")[0].decode("utf-8")
    assert first.startswith('{"instruction": "根據以下 AIOps')
    assert first.index('"input"') < first.index('"output"') < first.index('"metadata"')
    assert "\\u" not in first


def test_week_boundaries_are_taipei_mondays(database_url, tmp_path):
    week = Week(database_url)
    inside = {
        "monday_midnight": week.evidence("INC-1", "start is inclusive", at()),
        # Monday 03:00 in Taipei is Sunday 19:00 in UTC: it belongs to this week.
        "sunday_in_utc": week.evidence("INC-1", "Monday 03:00 Taipei", at(hours=3)),
        "last_microsecond": week.evidence("INC-1", "end minus a microsecond", at(days=7, seconds=-0.000001)),
    }
    week.evidence("INC-1", "previous Sunday", at(seconds=-1))
    week.evidence("INC-1", "next Monday is exclusive", at(days=7))
    week.execution("INC-1", [{"action": "restart"}], at(days=-1))
    week.save()

    materialize_week(database_url, tmp_path)
    lines = read_lines(export_files(tmp_path)[0])
    assert [line["metadata"]["evidence_id"] for line in lines] == list(inside.values())
    assert lines[1]["metadata"]["collected_at"] == "2026-11-09T03:00:00.000000+08:00"
    assert lines[2]["metadata"]["collected_at"] == "2026-11-15T23:59:59.999999+08:00"


def test_more_than_500_rows_are_all_exported_in_order(database_url, tmp_path):
    week = Week(database_url)
    for number in range(1234):
        incident = f"INC-{number:05d}"
        week.evidence(incident, f"alert number {number}", at(minutes=7 * number % 10000, seconds=number % 60))
        week.execution(incident, [{"action": f"fix-{number}"}], at())
    week.save()

    materialize_week(database_url, tmp_path)
    lines = read_lines(export_files(tmp_path)[0])
    assert len(lines) == 1234
    keys = [(line["metadata"]["collected_at"], line["metadata"]["evidence_id"]) for line in lines]
    assert keys == sorted(keys)
    assert len(audit_rows(database_url)[0]["source_ids"]) == 1234


def test_exact_duplicates_keep_the_latest(database_url, tmp_path):
    week = Week(database_url)
    same_time = at(days=2)
    low, high = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    for incident, evidence_id, moment in [
        ("INC-1", None, at(days=1)),
        ("INC-2", high, same_time),
        ("INC-3", low, same_time),
    ]:
        week.evidence(incident, "same alert", moment, evidence_id=evidence_id)
        week.execution(incident, [{"action": "restart"}], at())
    week.evidence("INC-4", "same alert", at(days=3))
    week.execution("INC-4", [{"action": "restart"}], at(), success=False)
    week.save()

    result = materialize_week(database_url, tmp_path)
    lines = read_lines(export_files(tmp_path)[0])
    assert [line["metadata"]["evidence_id"] for line in lines] == [high, lines[1]["metadata"]["evidence_id"]]
    assert lines[1]["output"].endswith("失敗")
    [row] = audit_rows(database_url)
    assert row["metadata"]["duplicates"] == 2
    assert row["metadata"]["exported"] == 2
    assert materialization_metadata(result, "training_pairs")["count_duplicates"] == 2


def test_unicode_and_a_200_kb_summary_survive_byte_for_byte(database_url, tmp_path):
    week = Week(database_url)
    tricky = "磁碟滿了 🚨🔥 line\u2028separator\u2029paragraph ‮rtl‬ e\u0301 𝔘𝔫𝔦"
    huge = "日誌" * 100_000 + " tail"
    week.evidence("INC-1", tricky, at(days=1))
    week.session("INC-1", {"reasoning": "清理 /var/log 🧹\u2028done"}, at(days=1))
    week.evidence("INC-2", huge, at(days=2))
    week.execution("INC-2", ["rotate"], at(days=2))
    week.save()

    materialize_week(database_url, tmp_path)
    data = export_files(tmp_path)[0].read_bytes()
    assert "🚨🔥".encode() in data and "\u2028".encode() in data
    assert data.count(b"\n") == 2
    lines = read_lines(export_files(tmp_path)[0])
    assert lines[0]["input"] == tricky
    assert lines[0]["output"] == "[AI 決策]\n清理 /var/log 🧹\u2028done"
    assert lines[1]["input"] == huge
    assert len(lines[1]["input"].encode()) > 200_000


def test_a_5_mb_summary_passes_whole(database_url, tmp_path):
    week = Week(database_url)
    huge = "磁碟 full, line\n" * 300_000 + " end"
    week.evidence("INC-1", "small before", at(days=1))
    week.evidence("INC-2", huge, at(days=2))
    week.evidence("INC-3", "small after", at(days=3))
    for incident in ("INC-1", "INC-2", "INC-3"):
        week.execution(incident, ["restart"], at(days=1))
    week.save()

    materialize_week(database_url, tmp_path)
    lines = read_lines(export_files(tmp_path)[0])
    assert [len(line["input"]) for line in lines] == [len("small before"), len(huge.strip()), len("small after")]
    assert lines[1]["input"] == huge.strip() and len(huge.encode()) > 5 * 1024 * 1024


def test_odd_incident_ids_join_to_their_own_sessions_and_repairs(database_url, tmp_path):
    # Quotes, a semicolon, a comma, a backslash, a newline and non-ASCII: CSV quoting on the COPY
    # path and byte order in the merge join must keep every incident with its own rows.
    incidents = ['INC-"q";DROP', "INC,comma", "INC-\\back", "INC-中", "INC-é", "INC-z", "INC-new\nline", "INC-A"]
    week = Week(database_url)
    for number, incident in enumerate(incidents):
        week.incident(incident, {"alertname": f"alert-{number}"})
        week.evidence(incident, f"summary {number}", at(days=1, minutes=number))
        week.session(incident, {"reasoning": f"reason {number}"}, at(days=1))
        week.execution(incident, [{"action": f"act {number}"}], at(days=1))
    week.save()

    materialize_week(database_url, tmp_path)
    lines = read_lines(export_files(tmp_path)[0])
    assert [line["metadata"]["incident_id"] for line in lines] == incidents
    for number, line in enumerate(lines):
        assert line["output"] == f"[AI 決策]\nreason {number}\n\n[執行動作]\nact {number}\n\n[執行結果] 成功"
        assert line["metadata"]["alertname"] == f"alert-{number}"


def test_an_empty_week_writes_no_file_and_no_audit_row(database_url, tmp_path):
    week = Week(database_url)
    week.evidence("INC-1", "other week", at(days=-3))
    week.execution("INC-1", ["restart"], at(days=-3))
    week.save()

    result = materialize_week(database_url, tmp_path)
    assert export_files(tmp_path) == []
    assert audit_rows(database_url) == []
    assert materialization_metadata(result, "jsonl_export")["dagster/row_count"] == 0
    assert materialization_metadata(result, "export_registry")["dagster/row_count"] == 0
    assert "no training pairs" in materialization_metadata(result, "export_registry")["note"]


def test_a_second_materialization_writes_a_new_identical_file_and_a_second_row(database_url, tmp_path):
    _mixed_week(database_url)
    first = materialize_week(database_url, tmp_path)
    second = materialize_week(database_url, tmp_path)

    files = export_files(tmp_path)
    assert len(files) == 2
    assert files[0].read_bytes() == files[1].read_bytes()
    rows = audit_rows(database_url)
    assert len(rows) == 2
    assert {row["file_path"] for row in rows} == {str(path.resolve()) for path in files}
    assert rows[0]["checksum_sha256"] == rows[1]["checksum_sha256"]
    assert [row["metadata"]["run_id"] for row in rows] == [first.run_id, second.run_id]


def test_latest_session_and_execution_break_ties_by_id(database_url, tmp_path):
    week = Week(database_url)
    tie = at(days=1, minutes=5)
    week.evidence("INC-1", "tied rows", at(days=1))
    week.session("INC-1", {"reasoning": "lower id"}, tie, session_id="00000000-0000-4000-8000-00000000000a")
    week.session("INC-1", {"reasoning": "higher id"}, tie, session_id="00000000-0000-4000-8000-00000000000b")
    week.session("INC-1", {"reasoning": "older"}, at(days=1))
    week.execution("INC-1", ["older step"], at(days=1))
    week.execution("INC-1", ["low"], tie, execution_id="00000000-0000-4000-8000-00000000000c")
    week.execution("INC-1", ["high"], tie, execution_id="00000000-0000-4000-8000-00000000000d")
    week.save()

    materialize_week(database_url, tmp_path)
    [line] = read_lines(export_files(tmp_path)[0])
    assert line["output"] == "[AI 決策]\nhigher id\n\n[執行動作]\nhigh\n\n[執行結果] 成功"


def test_same_source_data_gives_the_same_bytes_across_export_folders(database_url, tmp_path):
    _mixed_week(database_url)
    materialize_week(database_url, tmp_path / "one")
    materialize_week(database_url, tmp_path / "two")
    assert export_files(tmp_path / "one")[0].read_bytes() == export_files(tmp_path / "two")[0].read_bytes()
    assert read_lines(export_files(tmp_path / "one")[0])[0]["instruction"] == INSTRUCTION
