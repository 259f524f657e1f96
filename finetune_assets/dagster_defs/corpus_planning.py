"""Planning a corpus version: sign the weeks it needs, then plan only the weeks added since the version
before when that version's plan is kept and covers the same first weeks under the same policy, or
every week (with the sides of the version before) when not."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.corpus_card import CorpusInput
from ..core.corpus_plan import NO_PRIOR, PRIOR_TRAIN, PRIOR_VALIDATION, CorpusPlan, plan_corpus
from ..core.near_duplicates import Banding
from ..core.near_pass import NearDuplicates
from ..core.plan_state import extend_plan
from ..db.connection import Database
from ..db.corpus_registry import CorpusRecord, corpus_sides
from ..io.kept_sets import KeptSets
from ..io.plan_signatures import WeekSignatures
from ..io.plan_store import StoredPlan, load_plan, plan_description
from ..io.store import Store
from ..io.week_signatures import read_signatures
from ..io.week_signer import sign


@dataclass(frozen=True)
class PlannedCorpus:
    stored: StoredPlan  # the plan of every week, as the next version starts from it
    signed_now: list[str]  # weeks whose signatures this build computed
    carried_weeks: int  # weeks the version before planned (0: every week was planned now)
    evidence_ids: Callable[[int], pa.Array]  # the evidence ids of a week (by its place), in file order

    @property
    def plan(self) -> CorpusPlan:
        return self.stored.plan

    @property
    def starts(self) -> np.ndarray:
        return np.array(self.stored.starts)


def carried_plan(staging: Store, predecessor: CorpusRecord | None, inputs: list[CorpusInput], key: dict):
    """The kept plan of the version before, when it planned the first of these weeks, with these very
    files, under this policy; None when a build must plan every week."""
    description = plan_description(staging, predecessor.version) if predecessor else None
    if description is None or description.get("key") != key:
        return None
    planned = description["inputs"]
    if len(planned) >= len(inputs) or planned != [[item.week, item.sha256] for item in inputs[: len(planned)]]:
        return None
    return load_plan(staging, predecessor.version, description)


def _fixed(column: pa.ChunkedArray) -> np.ndarray:
    width, array = column.type.byte_width, column.combine_chunks()
    data = np.frombuffer(array.buffers()[1], dtype=f"S{width}")
    return data[array.offset : array.offset + len(array)]


def _prior_sides(evidence_ids: pa.Array, sides: dict[str, pa.Array]) -> np.ndarray:
    prior = np.full(len(evidence_ids), NO_PRIOR, dtype=np.int8)
    for side, ids in ((PRIOR_TRAIN, sides.get("train")), (PRIOR_VALIDATION, sides.get("validation"))):
        if ids is not None and len(ids):
            prior[pc.is_in(evidence_ids, value_set=ids).to_numpy(zero_copy_only=False)] = side
    return prior


def plan_weeks(
    database: Database,
    exports: Store,
    paths: list[str],
    staging: Store,
    inputs: list[CorpusInput],
    cluster_keep: int,
    banding: Banding | None,
    predecessor: CorpusRecord | None,
    carried: StoredPlan | None,
    version: str,
) -> PlannedCorpus:
    """``version``: the version planned, which names the pieces of kept sets written now."""
    done = len(carried.inputs) if carried else 0
    kept_sets = KeptSets(staging, version, carried.pieces if carried else [])

    def evidence_ids(week: int) -> pa.Array:
        # Signed again when its file was swept: a week the version before planned is rarely read.
        sign(exports, paths[week : week + 1], staging, inputs[week : week + 1], banding)
        table = read_signatures(staging, inputs[week], banding, ("evidence_id",))
        return table.column("evidence_id").combine_chunks()

    first_row = carried.starts[-1] if carried else 0
    # From the audit rows' line counts; each week's signatures are held to its count below.
    sizes = [item.records for item in inputs[done:]]
    starts = np.array(
        [*(carried.starts[:-1] if carried else []), *(first_row + np.cumsum([0, *sizes]))], dtype=np.int64
    )
    near = None
    if banding and cluster_keep:
        signatures = WeekSignatures(staging, inputs[done:], banding, starts[done:], kept_sets)
        near = NearDuplicates(
            signatures.bands, signatures.similar, [int(s) for s in starts[done:-1]], signatures.remember
        )
    signed_now = sign(exports, paths[done:], staging, inputs[done:], banding)
    # The evidence ids are not held: the shards written read them, and the prior sides look at a week's at a time.
    tables = [read_signatures(staging, item, banding, ("exact", "validation")) for item in inputs[done:]]
    for item, table in zip(inputs[done:], tables, strict=True):
        if table.num_rows != item.records:
            raise ValueError(
                f"{item.file_url} (audit row {item.audit_row_id} of week {item.week}) is registered with "
                f"{item.records} lines, but its registered bytes hold {table.num_rows}"
            )
    exact = np.concatenate([_fixed(t.column("exact")) for t in tables])
    weekly = np.concatenate([t.column("validation").to_numpy() for t in tables]).astype(bool)
    del tables
    if carried:
        plan = extend_plan(carried.plan, exact, weekly, cluster_keep, near)
    else:
        prior = np.full(len(exact), NO_PRIOR, dtype=np.int8)
        if predecessor is not None:
            sides = corpus_sides(database, predecessor)
            prior = np.concatenate([_prior_sides(evidence_ids(week), sides) for week in range(len(inputs))])
        plan = plan_corpus(exact, weekly, prior, cluster_keep, near)

    inputs_planned = [[item.week, item.sha256] for item in inputs]
    stored = StoredPlan(plan, inputs_planned, [int(s) for s in starts], kept_sets.pieces)
    return PlannedCorpus(stored, signed_now, done, evidence_ids)
