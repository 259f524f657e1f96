"""Planning a corpus version: sign the weeks it needs, then plan only the weeks added since the version
before when that version's plan is kept and covers the same first weeks under the same policy, or
every week (with the sides of the version before) when not."""

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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
from ..io import arrow_memory
from ..io.kept_sets import KeptSets
from ..io.plan_signatures import WeekSignatures
from ..io.plan_store import StoredPlan, load_plan, plan_description
from ..io.store import Store
from ..io.week_signatures import has_signatures, read_signatures, store_signatures

READ_THREADS = 2


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


def sign(exports: Store, paths: list[str], staging: Store, inputs: list[CorpusInput], banding) -> list[str]:
    """Computes the signatures no earlier build kept; the weeks signed now. With several weeks to sign,
    a worker process takes every other one while this process signs the rest: rensa hands signatures
    to Python as lists, which holds the GIL, and one worker (not two) keeps the memory of the process
    tree low."""
    missing = [
        (exports, path, staging, item, banding)
        for path, item in zip(paths, inputs, strict=True)
        if not has_signatures(staging, item, banding)
    ]
    if len(missing) < 2:
        for job in missing:
            store_signatures(*job)
    else:
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of this process
        # The worker's Arrow allocator returns what a week freed, as a step's does.
        with ProcessPoolExecutor(1, mp_context=spawn, initializer=arrow_memory.configure) as pool:
            elsewhere = [pool.submit(store_signatures, *job) for job in missing[1::2]]
            for job in missing[::2]:
                store_signatures(*job)
            for future in elsewhere:
                future.result()
    return [item.week for _, _, _, item, _ in missing]


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
    signed_now = sign(exports, paths[done:], staging, inputs[done:], banding)

    def evidence_ids(week: int) -> pa.Array:
        # Signed again when its file was swept: a week the version before planned is rarely read.
        sign(exports, paths[week : week + 1], staging, inputs[week : week + 1], banding)
        table = read_signatures(staging, inputs[week], banding, ("evidence_id",))
        return table.column("evidence_id").combine_chunks()

    # The evidence ids are not held: the shards written read them, and the prior sides look at a week's at a time.
    columns = ("exact", "validation")
    with ThreadPoolExecutor(READ_THREADS) as pool:  # Parquet decoding releases the GIL
        tables = list(pool.map(lambda item: read_signatures(staging, item, banding, columns), inputs[done:]))
    first_row = carried.starts[-1] if carried else 0
    sizes = [t.num_rows for t in tables]
    starts = np.array(
        [*(carried.starts[:-1] if carried else []), *(first_row + np.cumsum([0, *sizes]))], dtype=np.int64
    )
    exact = np.concatenate([_fixed(t.column("exact")) for t in tables])
    weekly = np.concatenate([t.column("validation").to_numpy() for t in tables]).astype(bool)
    del tables
    kept_sets = KeptSets(staging, version, carried.pieces if carried else [])
    near = None
    if banding and cluster_keep:
        signatures = WeekSignatures(staging, inputs[done:], banding, starts[done:], kept_sets)
        near = NearDuplicates(
            signatures.bands, signatures.similar, [int(s) for s in starts[done:-1]], signatures.remember
        )
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
