"""Staged batches as the extract steps write them, built by hand for the join's tests."""

from datetime import datetime, timezone

import pyarrow as pa

from finetune_assets.core.staged_tables import EVIDENCE, STAGED_ACTIONS, STAGED_DECISIONS


def evidence_batch(rows, labels: str = '{"alertname": "HighCPU"}'):
    """rows: (ordinal, evidence id, incident id, summary); every row's incident has ``labels``."""
    count = len(rows)
    return pa.RecordBatch.from_pydict(
        {
            "ordinal": [row[0] for row in rows],
            "id": [row[1] for row in rows],
            "incident_id": [row[2] for row in rows],
            "evidence_summary": [row[3] for row in rows],
            "collected_at": [datetime(2026, 11, 9, tzinfo=timezone.utc)] * count,
            "verification_result": ["success"] * count,
            "schema_version": ["v1"] * count,
            "matched_playbook_id": [None] * count,
            "alertname": ["HighCPU"] * count,
            "labels": [labels] * count,
        },
        schema=EVIDENCE,
    )


def decisions_batch(pairs):
    """pairs: (incident id, reasoning)"""
    return pa.RecordBatch.from_pydict(
        {
            "incident_id": [p[0] for p in pairs],
            "session_id": ["s"] * len(pairs),
            "output_json": ["{}"] * len(pairs),
            "created_at": [None] * len(pairs),
            "reasoning": [p[1] for p in pairs],
        },
        schema=STAGED_DECISIONS,
    )


def repairs_batch(incidents):
    count = len(incidents)
    return pa.RecordBatch.from_pydict(
        {
            "incident_id": incidents,
            "execution_id": ["x"] * count,
            "playbook_name": ["pb"] * count,
            "executed_steps": ['["restart"]'] * count,
            "success": [True] * count,
            "created_at": [None] * count,
            "action": ["restart"] * count,
        },
        schema=STAGED_ACTIONS,
    )
