"""A week's evidence joined with its decisions and repairs, turned into pairs in bounded memory.

All three inputs arrive sorted by incident id (byte order), so the join walks them side by side one
batch at a time. Pairs come out grouped by incident; ``OrdinalBuckets`` puts them back in export
order (collected_at, id) through small spill files. No Dagster here.
"""

import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from .pairs import INSTRUCTION, METADATA_KEYS, Evidence, Repair, build_pair

PAIR_SCHEMA = pa.schema(
    [
        ("instruction", pa.string()),
        ("input", pa.large_string()),
        ("output", pa.large_string()),
        *((key, pa.string()) for key in METADATA_KEYS),
    ]
)
ORDERED_PAIR_SCHEMA = pa.schema([("ordinal", pa.int64()), *PAIR_SCHEMA])
DIGEST_SIZE = 16
BUCKET_ROWS = 32_768


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


class SortedLookup:
    """Rows of a stream sorted by incident id, handed out in step with another stream sorted the same way."""

    def __init__(self, batches: Iterable[pa.RecordBatch], value: Callable[[dict], Any]):
        self._batches = iter(batches)
        self._value = value
        self._ids: list[str] = []
        self._rows: dict[str, list] = {}
        self._position = 0

    def _load_next(self) -> bool:
        batch = next(self._batches, None)
        if batch is None:
            return False
        self._rows = batch.to_pydict()
        self._ids = self._rows["incident_id"]
        self._position = 0
        return True

    def through(self, last_incident: str) -> dict[str, Any]:
        """Values of every incident up to and including ``last_incident`` not handed out yet."""
        found = {}
        while True:
            end = bisect_right(self._ids, last_incident, lo=self._position)
            for index in range(self._position, end):
                found[self._ids[index]] = self._value({name: column[index] for name, column in self._rows.items()})
            self._position = end
            if end < len(self._ids) or not self._load_next():
                return found


def decision_lookup(batches: Iterable[pa.RecordBatch], stats: PairStats) -> SortedLookup:
    return SortedLookup(batches, lambda row: parse_json_text(row["output_json"], stats))


def repair_lookup(batches: Iterable[pa.RecordBatch], stats: PairStats) -> SortedLookup:
    return SortedLookup(
        batches,
        lambda row: Repair(row["playbook_name"], parse_json_text(row["executed_steps"], stats), bool(row["success"])),
    )


def pair_digest(pair: dict) -> bytes:
    """Identifies a pair by its input and output: equal digests are exact duplicates."""
    payload = json.dumps([pair["input"], pair["output"]], ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(payload, digest_size=DIGEST_SIZE).digest()


@dataclass
class Digests:
    """Each pair's ordinal and digest: 24 bytes a pair, the only state that grows with the week."""

    ordinals: list[np.ndarray]
    digests: bytearray

    @classmethod
    def empty(cls) -> "Digests":
        return cls([], bytearray())

    def keep_mask(self) -> np.ndarray:
        """Indexed by ordinal: True for the latest (highest ordinal) pair of each digest."""
        ordinals = np.concatenate(self.ordinals) if self.ordinals else np.zeros(0, dtype=np.int64)
        digests = np.frombuffer(bytes(self.digests), dtype=f"S{DIGEST_SIZE}")
        latest_first = np.argsort(ordinals, kind="stable")[::-1]
        _, first = np.unique(digests[latest_first], return_index=True)
        keep = np.zeros(int(ordinals.max()) + 1 if len(ordinals) else 0, dtype=bool)
        keep[ordinals[latest_first[first]]] = True
        return keep


def assemble_pairs(
    evidence_batches: Iterable[pa.RecordBatch],
    decisions: SortedLookup,
    repairs: SortedLookup,
    stats: PairStats,
    digests: Digests,
) -> Iterator[pa.RecordBatch]:
    """Pairs with their ordinals, grouped by incident as the evidence arrives."""
    for batch in evidence_batches:
        rows = batch.to_pylist()
        if not rows:
            continue
        last_incident = rows[-1]["incident_id"]
        batch_decisions, batch_repairs = decisions.through(last_incident), repairs.through(last_incident)
        records, ordinals = [], []
        for row in rows:
            stats.selected += 1
            incident = row["incident_id"]
            evidence = Evidence(
                id=row["id"],
                incident_id=incident,
                summary=row["evidence_summary"],
                collected_at=row["collected_at"],
                verification_result=row["verification_result"],
                schema_version=row["schema_version"],
                matched_playbook_id=row["matched_playbook_id"],
                alertname=row["alertname"],
            )
            pair = build_pair(evidence, batch_decisions.get(incident), batch_repairs.get(incident))
            if pair is None:
                stats.skipped_no_output += 1
                continue
            digests.digests += pair_digest(pair)
            ordinals.append(row["ordinal"])
            records.append(
                {"ordinal": row["ordinal"], "instruction": INSTRUCTION, "input": pair["input"],
                 "output": pair["output"], **pair["metadata"]}
            )
        if records:
            digests.ordinals.append(np.asarray(ordinals, dtype=np.int64))
            yield pa.RecordBatch.from_pylist(records, schema=ORDERED_PAIR_SCHEMA)


class OrdinalBuckets:
    """Spills pairs into files by ordinal range, then reads them back in ordinal order.

    Memory holds one bucket (``BUCKET_ROWS`` pairs) at a time, however large the week.
    """

    def __init__(self, directory: Path, bucket_rows: int = BUCKET_ROWS):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.bucket_rows = bucket_rows
        self._writers: dict[int, ipc.RecordBatchFileWriter] = {}

    def _path(self, bucket: int) -> Path:
        return self.directory / f"bucket-{bucket:06d}.arrow"

    def add(self, batch: pa.RecordBatch) -> None:
        buckets = pc.divide(batch.column("ordinal"), self.bucket_rows)
        for bucket in pc.unique(buckets).to_pylist():
            part = batch.filter(pc.equal(buckets, bucket))
            if bucket not in self._writers:
                self._writers[bucket] = ipc.new_file(self._path(bucket), ORDERED_PAIR_SCHEMA)
            self._writers[bucket].write_batch(part)

    def in_order(self, keep: np.ndarray) -> Iterator[pa.RecordBatch]:
        """Pairs in ordinal order, without the ordinal, keeping only ordinals marked in ``keep``."""
        for writer in self._writers.values():
            writer.close()
        for bucket in sorted(self._writers):
            with pa.memory_map(str(self._path(bucket))) as source:
                table = ipc.open_file(source).read_all().sort_by("ordinal")
            mask = keep[table.column("ordinal").to_numpy()]
            for batch in table.filter(pa.array(mask)).drop_columns(["ordinal"]).to_batches():
                yield batch
            self._path(bucket).unlink()
