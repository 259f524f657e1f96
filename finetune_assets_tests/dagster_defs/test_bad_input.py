"""Odd source rows, tried on purpose: the run succeeds, every line is valid, and each evidence is either
exported or counted as skipped with its reason, never silently lost."""

from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from finetune_assets.core.pairs import FALLBACK_TEXT_LIMIT

from ..seed import Week, at, audit_rows, export_files, materialization_metadata, materialize_week, new_id, read_lines

DEPTH = 5_000  # far deeper than Python's json parser goes; PostgreSQL's jsonb accepts it
DEEP_LIST = "[" * DEPTH + "]" * DEPTH
DEEP_OBJECT = '{"a": ' * DEPTH + "1" + "}" * DEPTH

# incident -> (raw output_json text or None, raw executed_steps text or None, expected output)
CASES = {
    "json-string": ('"restart the pod"', None, "[AI 決策]\nrestart the pod"),
    "json-list": ('["drain", 2]', None, '[AI 決策]\n["drain", 2]'),
    "json-number": ("42", None, "[AI 決策]\n42"),
    "json-nested": (
        '{"plan": {"steps": [{"a": [1, {"b": null}]}]}}',
        None,
        '[AI 決策]\n{"plan": {"steps": [{"a": [1, {"b": null}]}]}}',
    ),
    "json-deep-list": (DEEP_LIST, None, "[AI 決策]\n" + DEEP_LIST[:FALLBACK_TEXT_LIMIT]),
    "json-deep-object": (DEEP_OBJECT, None, "[AI 決策]\n" + DEEP_OBJECT[:FALLBACK_TEXT_LIMIT]),
    "steps-object": (None, '{"action": "restart"}', "[執行動作]\npb-fallback\n\n[執行結果] 成功"),
    "steps-numbers": (None, "[1, 2, 3]", "[執行動作]\npb-fallback\n\n[執行結果] 成功"),
    "steps-null": (None, "null", "[執行動作]\npb-fallback\n\n[執行結果] 成功"),
    "steps-sql-null": (None, None, "[執行動作]\npb-fallback\n\n[執行結果] 成功"),  # executed_steps is SQL NULL
    "inc'\";DROP": ('{"reasoning": "quoted id"}', None, "[AI 決策]\nquoted id"),
    # A JSON string at reasoning or [0].action is read by PostgreSQL itself (queries.json_string_at);
    # a blank or non-string one must still follow the rules in Python.
    "json-reasoning-escaped": ('{"reasoning": "say \\"hi\\" \\\\ \\u00e9\\n🚨"}', None, '[AI 決策]\nsay "hi" \\ é\n🚨'),
    "json-reasoning-blank": ('{"reasoning": " \u3000", "decision": "scale up"}', None, "[AI 決策]\nscale up"),
    "json-reasoning-number": ('{"reasoning": 7, "decision": "no"}', None, "[AI 決策]\n7"),
    "steps-action-text": (None, '[{"action": "重啟 pod"}]', "[執行動作]\n重啟 pod\n\n[執行結果] 成功"),
    "steps-action-object": (None, '[{"action": {"cmd": "drain"}}]', '[執行動作]\n{"cmd": "drain"}\n\n[執行結果] 成功'),
    "steps-action-blank": (None, '[{"action": " ", "step": "cordon"}]', "[執行動作]\ncordon\n\n[執行結果] 成功"),
    "steps-first-string": (None, '["rollback"]', "[執行動作]\nrollback\n\n[執行結果] 成功"),
}
ODD_TEXT = [
    "control \x01\x02\x1f\x7f chars",
    "line\u2028separator\u2029paragraph",
    "rtl \u202eevil\u202c and combining e\u0301 a\u0308",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚨🔥 𠀀",
    "大" * 1_700_000,  # about 5 MB of UTF-8
]


def _insert_raw(url: str, rows: list[dict]) -> None:
    """Sessions and executions with JSON given as text, cast by the database itself."""
    engine = create_engine(url)
    as_json = "CAST(:{} AS jsonb)" if engine.dialect.name == "postgresql" else ":{}"
    with engine.begin() as connection:
        for row in rows:
            if row["table"] == "agent_sessions":
                connection.execute(
                    text(
                        "INSERT INTO agent_sessions (id, incident_id, agent_role, output_json, created_at) "
                        f"VALUES (:id, :incident_id, 'coordinator', {as_json.format('payload')}, :created_at)"
                    ),
                    row,
                )
            else:
                connection.execute(
                    text(
                        "INSERT INTO auto_repair_executions (id, incident_id, playbook_name, executed_steps, success, "
                        "created_at) VALUES (:id, :incident_id, 'pb-fallback', "
                        f"{as_json.format('payload')}, true, :created_at)"
                    ),
                    row,
                )
    engine.dispose()


def _created(url: str, moment: datetime) -> datetime:
    """SQLite keeps naive UTC timestamps (the demo convention); PostgreSQL takes them with their zone."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if url.startswith("sqlite") else moment


def test_odd_json_and_odd_text_are_exported_or_counted(database_url, tmp_path):
    week = Week(database_url)
    raw = []
    for n, (incident, (output_json, steps, _)) in enumerate(CASES.items()):
        week.incident(incident, {"alertname": f"Odd{n}"})
        week.evidence(incident, f"case {incident}", at(days=1, minutes=n))
        if output_json is not None:
            raw.append(
                {
                    "table": "agent_sessions",
                    "id": new_id(),
                    "incident_id": incident,
                    "payload": output_json,
                    "created_at": _created(database_url, at(days=1, minutes=n)),
                }
            )
        if incident.startswith("steps"):
            raw.append(
                {
                    "table": "auto_repair_executions",
                    "id": new_id(),
                    "incident_id": incident,
                    "payload": steps,
                    "created_at": _created(database_url, at(days=1, minutes=n)),
                }
            )
    for n, summary in enumerate(ODD_TEXT):
        incident = week.incident(f"ODD-{n}", {"alertname": "OddText"})
        week.evidence(incident, summary, at(days=2, minutes=n))
        week.execution(incident, [f"act {summary[:40]}"], at(days=2, minutes=n))
    week.evidence("NOTHING", "no session and no execution", at(days=3))
    week.save()
    _insert_raw(database_url, raw)

    result = materialize_week(database_url, tmp_path)  # raises if any step or blocking check fails

    lines = read_lines(export_files(tmp_path)[0])
    outputs = {line["metadata"]["incident_id"]: line["output"] for line in lines}
    for incident, (_, _, expected) in CASES.items():
        assert outputs[incident] == expected, incident
    inputs = {line["metadata"]["incident_id"]: line["input"] for line in lines}
    assert [inputs[f"ODD-{n}"] for n in range(len(ODD_TEXT))] == [summary.strip() for summary in ODD_TEXT]

    stats = materialization_metadata(result, "training_pairs")
    assert stats["count_selected"] == len(CASES) + len(ODD_TEXT) + 1
    assert stats["count_skipped_no_output"] == 1  # NOTHING, counted
    assert (
        stats["count_exported"] + stats["count_skipped_no_output"] + stats["count_duplicates"]
        == stats["count_selected"]
    )
    assert len(lines) == stats["count_exported"]
    assert materialization_metadata(result, "coordinator_decisions")["json_too_deep"] == 2
    assert all(check.passed for check in result.get_asset_check_evaluations() if check.check_name != "token_lengths")
    [row] = audit_rows(database_url)
    assert row["metadata"]["skipped"] == 1


def test_a_summary_of_invisible_characters_is_blank_and_a_byte_order_mark_is_stripped(database_url, tmp_path):
    week = Week(database_url)
    summaries = {"ZW": "\u200b", "ZW-SPACES": " \u200b\u2060 \ufeff ", "BOM": "\ufeffdisk 93% on worker-1\u200b "}
    for n, (incident, summary) in enumerate(summaries.items()):
        week.evidence(incident, summary, at(days=1, minutes=n))
        week.execution(incident, ["rotate_logs"], at(days=1, minutes=n))
    week.save()
    result = materialize_week(database_url, tmp_path)
    [line] = read_lines(export_files(tmp_path)[0])
    assert line["input"] == "disk 93% on worker-1" and line["metadata"]["incident_id"] == "BOM"
    assert materialization_metadata(result, "successful_evidence")["blank_summaries_skipped"] == 2
