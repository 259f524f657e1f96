"""The training-pair rules, as a reference: one Alpaca record from an evidence, its coordinator session
and its repair, a row at a time. ``pair_columns`` applies the same rules a column at a time; the tests
hold the two equal.
"""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .text import strip_blank
from .weeks import TAIPEI

INSTRUCTION = "根據以下 AIOps 情報摘要（EvidenceSnapshot），分析告警根因並提出具體的修復建議，說明修復動作的理由。"

# Which evidence makes a pair (its repair verified) and whose session holds the decision.
VERIFIED = "success"
DECISION_ROLE = "coordinator"
DECISION_HEADER = "[AI 決策]\n"
ACTION_HEADER = "[執行動作]\n"
RESULT_SUCCESS = "[執行結果] 成功"
RESULT_FAILURE = "[執行結果] 失敗"
UNKNOWN_ACTION = "未知"
PART_SEPARATOR = "\n\n"
FALLBACK_TEXT_LIMIT = 500
# Where the coordinator's reasoning and the first step's action are looked for, in order.
REASONING_KEYS = ("reasoning", "decision")
ACTION_KEYS = ("action", "step")
# The common case of each, a JSON string at one path: the database can read it (db.queries).
REASONING_PATH = (REASONING_KEYS[0],)
ACTION_PATH = (0, ACTION_KEYS[0])

METADATA_KEYS = (
    "evidence_id",
    "incident_id",
    "alertname",
    "verification_result",
    "collected_at",
    "schema_version",
    "matched_playbook_id",
)


@dataclass(frozen=True)
class Evidence:
    id: str
    incident_id: str
    summary: str
    collected_at: datetime
    verification_result: str = VERIFIED
    schema_version: str | None = None
    matched_playbook_id: str | None = None
    alertname: str | None = None


@dataclass(frozen=True)
class Repair:
    playbook_name: str | None
    executed_steps: Any
    success: bool


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def is_empty(value: Any) -> bool:
    """null, a blank string, ``{}`` and ``[]`` carry nothing to learn from."""
    if value is None:
        return True
    if isinstance(value, str):
        return not strip_blank(value)
    if isinstance(value, (dict, list)):
        return not value
    return False


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)


def parse_json_text(text: str | None, counts: Counter) -> Any:
    """JSON columns arrive as text; a value that does not parse is kept as the text it is, and counted."""
    if text is None:
        return None
    # json, not a faster parser: orjson, for one, turns integers beyond 64 bits into floats.
    try:
        return json.loads(text)
    except ValueError:
        counts["unparseable_json"] += 1
        return text
    except RecursionError:
        # Nested deeper than Python's parser goes (PostgreSQL allows more): the rules' fallback,
        # the JSON text cut to 500 characters, taken from the text as the database wrote it.
        counts["json_too_deep"] += 1
        return text[:FALLBACK_TEXT_LIMIT]


def reasoning_text(output_json: Any) -> str | None:
    """What the coordinator decided, from its ``output_json``; None when it said nothing."""
    if is_empty(output_json):
        return None
    if isinstance(output_json, dict):
        for key in REASONING_KEYS:
            if not is_empty(output_json.get(key)):
                return as_text(output_json[key])
        return json_text(output_json)[:FALLBACK_TEXT_LIMIT]
    if isinstance(output_json, str):
        return output_json
    return json_text(output_json)[:FALLBACK_TEXT_LIMIT]


def action_text(executed_steps: Any, playbook_name: str | None) -> str:
    """The first executed step's action, else the playbook that ran, else 未知."""
    if isinstance(executed_steps, list) and executed_steps:
        first = executed_steps[0]
        if isinstance(first, dict):
            for key in ACTION_KEYS:
                if not is_empty(first.get(key)):
                    return as_text(first[key])
        elif isinstance(first, str) and strip_blank(first):
            return first
    if playbook_name and strip_blank(playbook_name):
        return playbook_name
    return UNKNOWN_ACTION


def output_text(reasoning: str | None, action: str | None, success: bool | None) -> str | None:
    """The parts that exist, joined by one blank line; None when there is none."""
    parts = []
    if reasoning is not None:
        parts.append(DECISION_HEADER + reasoning)
    if action is not None:
        parts.append(ACTION_HEADER + action)
        parts.append(RESULT_SUCCESS if success else RESULT_FAILURE)
    return PART_SEPARATOR.join(parts) if parts else None


def repair_parts(repair: Repair | None) -> tuple[str | None, bool | None]:
    if repair is None:
        return None, None
    return action_text(repair.executed_steps, repair.playbook_name), repair.success


def alertname_or_incident(alertname: str | None, incident_id: str) -> str:
    return alertname if alertname and strip_blank(alertname) else incident_id


def taipei_iso(moment: datetime) -> str:
    """ISO 8601 in Taipei time, always with six fractional digits: whole seconds written without a
    fraction read as timestamps to some loaders (HF `datasets`), which then drop the offset and
    fail on the first line that has one."""
    # SQLite hands back naive timestamps; the demo stores them in UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(TAIPEI).isoformat(timespec="microseconds")


def pair_metadata(evidence: Evidence) -> dict[str, str]:
    """Every key on every line, always a string: pyarrow-based loaders reject a key that changes type."""
    return {
        "evidence_id": evidence.id,
        "incident_id": evidence.incident_id,
        "alertname": alertname_or_incident(evidence.alertname, evidence.incident_id),
        "verification_result": evidence.verification_result,
        "collected_at": taipei_iso(evidence.collected_at),
        "schema_version": evidence.schema_version or "",
        "matched_playbook_id": evidence.matched_playbook_id or "",
    }


def build_pair(evidence: Evidence, output_json: Any, repair: Repair | None) -> dict | None:
    """The Alpaca record for one evidence, or None when there is nothing to put in ``output``.

    The reference composition of the rules; ``pair_columns`` and ``join`` apply them a column at a time.
    """
    output = output_text(reasoning_text(output_json), *repair_parts(repair))
    if output is None:
        return None
    return {
        "instruction": INSTRUCTION,
        "input": strip_blank(evidence.summary),
        "output": output,
        "metadata": pair_metadata(evidence),
    }
