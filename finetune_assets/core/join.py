"""A week's evidence joined with its decisions and repairs into pairs, in bounded memory.

All three inputs arrive sorted by incident id (byte order), so the join walks them side by side one
batch at a time. Pairs come out grouped by incident, each with its ordinal in export order
(collected_at, id), for ``io.spill`` to put them back in that order.
"""

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from .digests import Digests, pair_digests
from .pair_columns import alertname_column, input_column, output_column, taipei_iso_column
from .pairs import INSTRUCTION
from .records import PairStats
from .redaction import Redactor
from .staged_tables import ORDERED_PAIRS


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
        # Together: a secret named in the summary is also redacted where the reasoning repeats it.
        inputs, outputs = redactor.redact_pairs(
            input_column(batch.column("evidence_summary")), outputs, stats.redactions
        )
        digests.add(batch.column("ordinal").to_numpy(), pair_digests(inputs, outputs))
        columns = {
            "ordinal": batch.column("ordinal"),
            "instruction": pa.array([INSTRUCTION] * batch.num_rows, pa.string()),
            "input": inputs,
            "output": outputs,
            "evidence_id": batch.column("id"),
            "incident_id": batch.column("incident_id"),
            "alertname": alertname_column(batch.column("alertname"), batch.column("incident_id")),
            "verification_result": batch.column("verification_result"),
            "collected_at": taipei_iso_column(batch.column("collected_at")),
            "schema_version": batch.column("schema_version").fill_null(""),
            "matched_playbook_id": batch.column("matched_playbook_id").fill_null(""),
        }
        yield pa.RecordBatch.from_arrays(
            [columns[name].cast(field.type) for name, field in zip(ORDERED_PAIRS.names, ORDERED_PAIRS, strict=True)],
            schema=ORDERED_PAIRS,
        )
