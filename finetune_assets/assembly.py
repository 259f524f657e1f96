"""A week's evidence joined with its decisions and repairs, turned into pairs in bounded memory.

All three inputs arrive sorted by incident id (byte order), so the join walks them side by side one
batch at a time. Pairs come out grouped by incident; ``OrdinalBuckets`` puts them back in export
order (collected_at, id) through small spill files. No Dagster here.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from .pairs import (
    ACTION_HEADER,
    DECISION_HEADER,
    FALLBACK_TEXT_LIMIT,
    INSTRUCTION,
    METADATA_KEYS,
    PART_SEPARATOR,
    RESULT_FAILURE,
    RESULT_SUCCESS,
)
from .redaction import Redactor
from .text import non_blank, stripped

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
BUCKET_ROWS = 8_192


@dataclass
class PairStats:
    selected: int = 0
    skipped_no_output: int = 0
    duplicates: int = 0
    exported: int = 0
    redactions: Counter = field(default_factory=Counter)  # secrets replaced, per type

    def as_dict(self) -> dict:
        return {**asdict(self), "redactions": dict(sorted(self.redactions.items()))}


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


class SortedLookup:
    """Rows of a stream sorted by incident id, handed out in step with another stream sorted the same way.

    ``through(last)`` gives the rows of every incident up to and including ``last`` not yet passed.
    The rows of ``last`` itself stay for the next call as well: that incident's evidence may go on
    in the next evidence batch."""

    def __init__(self, batches: Iterable[pa.RecordBatch], columns: list[str]):
        self._batches = iter(batches)
        self._columns = ["incident_id", *columns]
        self._pending: pa.Table | None = None
        self._exhausted = False

    def _passes(self, last_incident: str) -> bool:
        """Whether the rows held go beyond ``last_incident``: then no more need loading."""
        if self._pending is None or not self._pending.num_rows:
            return False
        ids = self._pending.column("incident_id")
        return ids[len(ids) - 1].as_py() > last_incident

    def through(self, last_incident: str) -> pa.Table:
        while not self._exhausted and not self._passes(last_incident):
            batch = next(self._batches, None)
            if batch is None:
                self._exhausted = True
                break
            table = pa.Table.from_batches([batch.select(self._columns)])
            self._pending = table if self._pending is None else pa.concat_tables([self._pending, table])
        if self._pending is None:
            # An empty stream: no incident has a value (the values' types are unknown, so null).
            values = {name: pa.array([], pa.null()) for name in self._columns[1:]}
            return pa.table({"incident_id": pa.array([], pa.string()), **values})
        ids = self._pending.column("incident_id")
        # Byte order, as the database sorted them; Arrow compares strings by their UTF-8 bytes.
        upto = pc.sum(pc.less_equal(ids, last_incident)).as_py() or 0
        before = pc.sum(pc.less(ids, last_incident)).as_py() or 0
        found = self._pending.slice(0, upto).combine_chunks()
        self._pending = self._pending.slice(before)
        return found


def decision_lookup(batches: Iterable[pa.RecordBatch]) -> SortedLookup:
    """incident id -> the coordinator's reasoning text (null: no reasoning part)."""
    return SortedLookup(batches, ["reasoning"])


def repair_lookup(batches: Iterable[pa.RecordBatch]) -> SortedLookup:
    """incident id -> the action text and success of its latest execution."""
    return SortedLookup(batches, ["action", "success"])


def looked_up(incident_ids: pa.Array, rows: pa.Table, column: str) -> pa.Array:
    """``column`` of each incident's row in ``rows``, null where it has none."""
    positions = pc.index_in(incident_ids, value_set=rows.column("incident_id").combine_chunks())
    return rows.column(column).combine_chunks().take(positions)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def output_column(reasoning: pa.Array, action: pa.Array, success: pa.Array) -> pa.Array:
    """``pairs.output_text`` a column at a time: the parts that exist, joined by one blank line;
    null where there is none."""
    join = pc.binary_join_element_wise
    decision = join(_text(DECISION_HEADER), reasoning.cast(pa.large_string()), _text(""))
    result = pc.if_else(pc.fill_null(success.cast(pa.bool_()), False), _text(RESULT_SUCCESS), _text(RESULT_FAILURE))
    repair = join(_text(ACTION_HEADER), action.cast(pa.large_string()), _text(PART_SEPARATOR), result, _text(""))
    # Both parts, else the one there is. (Not null_handling="skip": pyarrow 26 drops rows where every
    # part is null from its result.)
    return pc.coalesce(join(decision, repair, _text(PART_SEPARATOR)), decision, repair)


def pair_digest(pair_input: bytes, pair_output: bytes) -> bytes:
    """Identifies a pair by its input and output (UTF-8): equal digests are exact duplicates."""
    payload = len(pair_input).to_bytes(8, "little") + pair_input + pair_output
    return hashlib.blake2b(payload, digest_size=DIGEST_SIZE).digest()


def pair_digests(inputs: pa.Array, outputs: pa.Array) -> bytes:
    """Each row's pair digest, back to back. The UTF-8 bytes come straight from the columns (no
    decoding to str and encoding back); a null counts as empty."""
    columns = [column.fill_null("").cast(pa.large_binary()).to_pylist() for column in (inputs, outputs)]
    return b"".join(map(pair_digest, *columns))


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
        digests = np.frombuffer(self.digests, dtype=f"S{DIGEST_SIZE}")
        latest_first = np.argsort(ordinals, kind="stable")[::-1]
        _, first = np.unique(digests[latest_first], return_index=True)
        keep = np.zeros(int(ordinals.max()) + 1 if len(ordinals) else 0, dtype=bool)
        keep[ordinals[latest_first[first]]] = True
        return keep


def taipei_iso_column(column: pa.Array) -> pa.Array:
    """UTC timestamps as ``datetime.astimezone(TAIPEI).isoformat()`` writes them, a column at a time."""
    local = column.cast(pa.timestamp("us", tz="Asia/Taipei"))
    text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S%z")
    text = pc.replace_substring_regex(text, pattern=r"\.000000([+-])", replacement=r"\1")
    return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")


def assemble_pairs(
    evidence_batches: Iterable[pa.RecordBatch],
    decisions: SortedLookup,
    repairs: SortedLookup,
    stats: PairStats,
    digests: Digests,
    redactor: Redactor,
) -> Iterator[pa.RecordBatch]:
    """Pairs with their ordinals, grouped by incident as the evidence arrives, secrets redacted
    before anything else (duplicates included) sees the text."""
    for batch in evidence_batches:
        if not batch.num_rows:
            continue
        incident_ids = batch.column("incident_id")
        last = incident_ids[len(incident_ids) - 1].as_py()
        reasons, actions = decisions.through(last), repairs.through(last)
        outputs = output_column(
            looked_up(incident_ids, reasons, "reasoning"),
            looked_up(incident_ids, actions, "action"),
            looked_up(incident_ids, actions, "success"),
        )
        has_output = pc.is_valid(outputs)
        stats.selected += batch.num_rows
        batch, outputs = batch.filter(has_output), outputs.filter(has_output)
        stats.skipped_no_output += len(has_output) - batch.num_rows
        if not batch.num_rows:
            continue
        inputs = redactor.redact_column(stripped(batch.column("evidence_summary")), stats.redactions)
        outputs = redactor.redact_column(outputs, stats.redactions)
        digests.digests += pair_digests(inputs, outputs)
        digests.ordinals.append(batch.column("ordinal").to_numpy())
        incident_ids = batch.column("incident_id")
        # pairs.alertname_or_incident: the alert's name unless blank
        alertnames = pc.if_else(pa.array(non_blank(batch.column("alertname"))), batch.column("alertname"), incident_ids)
        columns = {
            "ordinal": batch.column("ordinal"),
            "instruction": pa.array([INSTRUCTION] * batch.num_rows, pa.string()),
            "input": inputs,
            "output": outputs,
            "evidence_id": batch.column("id"),
            "incident_id": incident_ids,
            "alertname": alertnames,
            "verification_result": batch.column("verification_result"),
            "collected_at": taipei_iso_column(batch.column("collected_at")),
            "schema_version": batch.column("schema_version").fill_null(""),
            "matched_playbook_id": batch.column("matched_playbook_id").fill_null(""),
        }
        yield pa.RecordBatch.from_arrays(
            [columns[name].cast(field.type) for name, field in zip(ORDERED_PAIR_SCHEMA.names, ORDERED_PAIR_SCHEMA)],
            schema=ORDERED_PAIR_SCHEMA,
        )


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
