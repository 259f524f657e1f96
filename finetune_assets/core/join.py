"""A week's evidence joined with its decisions and repairs into pairs, in bounded memory.

All three inputs arrive sorted by incident id (byte order), so the join walks them side by side one
batch at a time, each batch holding whole incidents (their texts are redacted together). Pairs come
out grouped by incident, each with its ordinal in export order (collected_at, id), for ``io.spill``
to put them back in that order.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .digests import Digests, pair_digests
from .pair_columns import alertname_column, input_column, output_column, taipei_iso_column
from .pairs import INSTRUCTION
from .records import PairStats
from .redaction import Redactor
from .secret_scan import prefilter, refreshed, scan_columns
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
    """incident id -> the coordinator's reasoning text (null: no reasoning part) and its raw output."""
    return SortedLookup(batches, ["reasoning", "output_json"])


def repair_lookup(batches: Iterable[pa.RecordBatch]) -> SortedLookup:
    """incident id -> the action text and success of its latest execution, and its raw steps."""
    return SortedLookup(batches, ["action", "success", "executed_steps", "playbook_name"])


def looked_up(incident_ids: pa.Array, rows: pa.Table, column: str) -> pa.Array:
    """``column`` of each incident's row in ``rows``, null where it has none."""
    positions = pc.index_in(incident_ids, value_set=rows.column("incident_id").combine_chunks())
    return rows.column(column).combine_chunks().take(positions)


def whole_incidents(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The evidence batches re-cut so that an incident never goes on into the next batch: its rows
    are redacted together, whatever the batch size."""
    held: pa.RecordBatch | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        if held is not None:
            batch = pa.Table.from_batches([held, batch]).combine_chunks().to_batches()[0]
        ids = batch.column("incident_id")
        # Byte order, as the database sorted them: the last incident's rows are at the end.
        before_last = pc.sum(pc.less(ids, ids[len(ids) - 1])).as_py() or 0
        if before_last:
            yield batch.slice(0, before_last)
        held = batch.slice(before_last)
    if held is not None and held.num_rows:
        yield held


@dataclass(frozen=True)
class JoinedBatch:
    """Evidence rows of whole incidents with their texts looked up, and what a first look at the raw
    texts found: the rows the redactor must read, the rows the scanner may find something in."""

    evidence: pa.RecordBatch
    texts: dict[str, pa.Array]  # what the pairs carry, redacted next
    context: dict[str, pa.Array]  # what else the incident holds: read for secrets, not carried
    redactor_hits: dict[str, pa.Array]  # "text:<name>" / "context:<name>" -> rows that may hold a secret
    scan_flags: list[np.ndarray]  # per text column, what the scanner's prefilters say of the raw text

    @property
    def has_output(self) -> pa.Array:
        return pc.is_valid(self.texts["output"])


def joined_batches(
    evidence_batches: Iterable[pa.RecordBatch], decisions: SortedLookup, repairs: SortedLookup, redactor: Redactor
) -> Iterator[JoinedBatch]:
    """The evidence joined with its decisions and repairs, a batch of whole incidents at a time, with
    the column-wide regex passes done. All of it is Arrow work that releases the GIL, so it can run on a
    second thread ahead of ``assemble_pairs``."""
    for batch in whole_incidents(evidence_batches):
        incident_ids = batch.column("incident_id")
        last = incident_ids[len(incident_ids) - 1].as_py()
        reasons, actions = decisions.through(last), repairs.through(last)
        outputs = output_column(
            looked_up(incident_ids, reasons, "reasoning"),
            looked_up(incident_ids, actions, "action"),
            looked_up(incident_ids, actions, "success"),
        )
        texts = {
            "input": input_column(batch.column("evidence_summary")),
            "output": outputs,
            "incident_id": incident_ids,
            "alertname": alertname_column(batch.column("alertname"), incident_ids),
            "schema_version": batch.column("schema_version").fill_null(""),
            "matched_playbook_id": batch.column("matched_playbook_id").fill_null(""),
        }
        # What else the incident's rows hold: a secret there is redacted wherever it appears in them.
        context = {
            "labels": batch.column("labels"),
            "output_json": looked_up(incident_ids, reasons, "output_json"),
            "executed_steps": looked_up(incident_ids, actions, "executed_steps"),
            "playbook_name": looked_up(incident_ids, actions, "playbook_name"),
        }
        yield JoinedBatch(
            batch,
            texts,
            context,
            redactor.hits_by_name(texts, context),
            prefilter(list(texts.values())),
        )


def assemble_pairs(
    joined: Iterable[JoinedBatch], stats: PairStats, digests: Digests, redactor: Redactor
) -> Iterator[pa.RecordBatch]:
    """Pairs with their ordinals, grouped by incident as the evidence arrives. Secrets are redacted
    an incident at a time before anything else (duplicates included) sees the text; a pair in which
    the scanner still finds something is withheld, named in ``stats`` by its evidence id."""
    for item in joined:
        batch, has_output = item.evidence, item.has_output
        stats.selected += batch.num_rows
        redacted = redactor.redact_incidents(
            batch.column("incident_id"), item.texts, item.context, stats.redactions, item.redactor_hits
        )
        stats.skipped_no_output += len(has_output) - (pc.sum(has_output).as_py() or 0)
        flags = [
            refreshed(flags, item.texts[name], redacted[name])
            for flags, name in zip(item.scan_flags, item.texts, strict=True)
        ]
        keep = pc.and_(has_output, _not_withheld(redacted, flags, batch.column("id"), has_output, stats))
        batch, texts = batch.filter(keep), {name: column.filter(keep) for name, column in redacted.items()}
        if not batch.num_rows:
            continue
        digests.add(batch.column("ordinal").to_numpy(), pair_digests(texts["input"], texts["output"]))
        columns = {
            **texts,
            "ordinal": batch.column("ordinal"),
            "instruction": pa.array([INSTRUCTION] * batch.num_rows, pa.string()),
            "evidence_id": batch.column("id"),
            "verification_result": batch.column("verification_result"),
            "collected_at": taipei_iso_column(batch.column("collected_at")),
        }
        yield pa.RecordBatch.from_arrays(
            [columns[name].cast(field.type) for name, field in zip(ORDERED_PAIRS.names, ORDERED_PAIRS, strict=True)],
            schema=ORDERED_PAIRS,
        )


def _not_withheld(
    texts: dict[str, pa.Array],
    flags: list[np.ndarray],
    evidence_ids: pa.Array,
    has_output: pa.Array,
    stats: PairStats,
) -> pa.Array:
    """False for the pairs in which the scanner finds a secret after redaction; each is recorded."""
    found: dict[int, list[str]] = {}
    for column in scan_columns(list(texts.values()), flags):
        for row, kinds in column.items():
            found.setdefault(row, []).extend(kinds)
    withheld = np.zeros(len(evidence_ids), dtype=bool)
    for row, kinds in sorted(found.items()):
        if has_output[row].as_py():
            withheld[row] = True
            stats.withhold(evidence_ids[row].as_py(), kinds)
    return pa.array(~withheld)
