"""A week's evidence joined with its decisions and repairs, turned into pairs batch by batch.

No Dagster here: the asset in ``assets/transform.py`` only wires these steps to files.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .pairs import INSTRUCTION, METADATA_KEYS, Evidence, Repair, build_pair

PAIR_SCHEMA = pa.schema(
    [
        ("instruction", pa.string()),
        ("input", pa.large_string()),
        ("output", pa.large_string()),
        *((key, pa.string()) for key in METADATA_KEYS),
    ]
)
DIGEST_SIZE = 16


@dataclass
class PairStats:
    selected: int = 0
    skipped_no_output: int = 0
    duplicates: int = 0
    exported: int = 0
    unparseable_json: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def parse_json_text(text: str | None, stats: PairStats) -> Any:
    """JSON columns arrive as text; a value that does not parse is kept as the text it is, and counted."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        stats.unparseable_json += 1
        return text


def load_decisions(batches: Iterable[pa.RecordBatch], stats: PairStats) -> dict[str, Any]:
    decisions = {}
    for batch in batches:
        for incident_id, output_json in zip(
            batch.column("incident_id").to_pylist(), batch.column("output_json").to_pylist()
        ):
            decisions[incident_id] = parse_json_text(output_json, stats)
    return decisions


def load_repairs(batches: Iterable[pa.RecordBatch], stats: PairStats) -> dict[str, Repair]:
    repairs = {}
    for batch in batches:
        columns = batch.select(["incident_id", "playbook_name", "executed_steps", "success"]).to_pydict()
        for incident_id, playbook, steps, success in zip(*columns.values()):
            repairs[incident_id] = Repair(playbook, parse_json_text(steps, stats), bool(success))
    return repairs


def pair_digest(pair: dict) -> bytes:
    """Identifies a pair by its input and output: equal digests are exact duplicates."""
    payload = json.dumps([pair["input"], pair["output"]], ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(payload, digest_size=DIGEST_SIZE).digest()


def assemble_pairs(
    evidence_batches: Iterable[pa.RecordBatch],
    decisions: dict[str, Any],
    repairs: dict[str, Repair],
    stats: PairStats,
    digests: bytearray,
) -> Iterator[pa.RecordBatch]:
    """Pairs in evidence order (collected_at, id); each pair's digest is appended to ``digests``."""
    for batch in evidence_batches:
        records = []
        for row in batch.to_pylist():
            stats.selected += 1
            evidence = Evidence(
                id=row["id"],
                incident_id=row["incident_id"],
                summary=row["evidence_summary"],
                collected_at=row["collected_at"],
                verification_result=row["verification_result"],
                schema_version=row["schema_version"],
                matched_playbook_id=row["matched_playbook_id"],
                alertname=row["alertname"],
            )
            pair = build_pair(evidence, decisions.get(evidence.incident_id), repairs.get(evidence.incident_id))
            if pair is None:
                stats.skipped_no_output += 1
                continue
            digests += pair_digest(pair)
            records.append({"instruction": INSTRUCTION, "input": pair["input"], "output": pair["output"], **pair["metadata"]})
        if records:
            yield pa.RecordBatch.from_pylist(records, schema=PAIR_SCHEMA)


def latest_of_each_duplicate(digests: bytes) -> np.ndarray:
    """A keep-mask over pairs in (collected_at, id) order that keeps the last of each equal digest."""
    keys = np.frombuffer(digests, dtype=f"S{DIGEST_SIZE}")
    _, first_in_reverse = np.unique(keys[::-1], return_index=True)
    keep = np.zeros(len(keys), dtype=bool)
    keep[len(keys) - 1 - first_in_reverse] = True
    return keep


def filter_batches(batches: Iterable[pa.RecordBatch], keep: np.ndarray) -> Iterator[pa.RecordBatch]:
    offset = 0
    for batch in batches:
        mask = keep[offset : offset + batch.num_rows]
        offset += batch.num_rows
        yield batch.filter(pa.array(mask))
