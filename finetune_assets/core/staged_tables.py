"""The shapes of the tables the steps hand each other: what each extract stages, the training pairs,
and the ids an export wrote."""

import pyarrow as pa

from .pairs import METADATA_KEYS

TIMESTAMP = pa.timestamp("us", tz="UTC")

EVIDENCE = pa.schema(
    [
        ("ordinal", pa.int64()),
        ("id", pa.string()),
        ("incident_id", pa.string()),
        ("evidence_summary", pa.large_string()),
        ("collected_at", TIMESTAMP),
        ("verification_result", pa.string()),
        ("schema_version", pa.string()),
        ("matched_playbook_id", pa.string()),
        ("alertname", pa.string()),
        ("labels", pa.large_string()),
    ]
)
DECISIONS = pa.schema(
    [
        ("incident_id", pa.string()),
        ("session_id", pa.string()),
        ("output_json", pa.large_string()),
        ("created_at", TIMESTAMP),
    ]
)
ACTIONS = pa.schema(
    [
        ("incident_id", pa.string()),
        ("execution_id", pa.string()),
        ("playbook_name", pa.string()),
        ("executed_steps", pa.large_string()),
        ("success", pa.bool_()),
        ("created_at", TIMESTAMP),
    ]
)
# The database's answer for the common case (db.queries.json_string_at), read with the rows, used
# by the rules, then dropped.
REASONING_HINT = pa.field("reasoning_hint", pa.large_string())
ACTION_HINT = pa.field("action_hint", pa.large_string())
DECISIONS_WITH_HINT = DECISIONS.append(REASONING_HINT)
ACTIONS_WITH_HINT = ACTIONS.append(ACTION_HINT)
# What the rules make of each row is derived in the extract steps, which run side by side.
STAGED_DECISIONS = DECISIONS.append(pa.field("reasoning", pa.large_string()))
STAGED_ACTIONS = ACTIONS.append(pa.field("action", pa.large_string()))

PAIRS = pa.schema(
    [
        ("instruction", pa.string()),
        ("input", pa.large_string()),
        ("output", pa.large_string()),
        *((key, pa.string()) for key in METADATA_KEYS),
    ]
)
ORDERED_PAIRS = pa.schema([("ordinal", pa.int64()), *PAIRS])

# An export's evidence ids in snapshot order, each with its side of the split.
SOURCE_IDS = pa.schema([("evidence_id", pa.string()), ("validation", pa.bool_())])
