"""A corpus version's plan, kept in the staging store so that the next version plans only the weeks it
adds (``plan_state.extend_plan``): the plan's arrays and state in a folder of the version's, and the
names of the pieces of kept rows' shingle sets it compares with (``kept_sets``, shared between the
versions that extend one another).

A cache: a folder that is missing, or made for other inputs or another policy, means the next build
plans every week from the registered files.
"""

import io
import json
import posixpath
from dataclasses import dataclass

import numpy as np

from ..core.corpus_plan import CorpusPlan, PlanState
from ..core.kept_index import KeptIndex
from .kept_sets import SetPiece, read_piece
from .store import Store

# Bumped when what a folder holds, or how a plan is computed from it, changes.
PLAN_FORMAT = 1
_DESCRIPTION = "plan.json"
_PLAN = ("outcome", "validation", "cluster")
_STATE = ("weekly", "group", "exact_keys", "exact_first", "exact_open")


@dataclass(frozen=True)
class StoredPlan:
    plan: CorpusPlan  # with its state
    inputs: list[list[str]]  # [week, sha256] of each week planned, in row order
    starts: list[int]  # the first row of each week, and the row count
    pieces: list[SetPiece]  # the kept rows' sets, in row order


def plan_folder(staging: Store, version: str) -> str:
    return staging.path("corpus", "plans", version)


def _save(staging: Store, path: str, array: np.ndarray) -> None:
    # Replaced whole if there: a plan is named by its version, which names its inputs and policy, so
    # another build of the version (another instance sharing the staging store) left the same bytes.
    with staging.writing(path, replace=True) as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def _save_columns(staging: Store, path: str, columns: list[np.ndarray]) -> None:
    """Equal-length 1-D arrays as one 2-D .npy, written a column at a time (never stacked in memory)."""
    header = {"descr": np.lib.format.dtype_to_descr(columns[0].dtype), "fortran_order": False,
              "shape": (len(columns), len(columns[0]))}  # fmt: skip
    with staging.writing(path, replace=True) as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for column in columns:
            handle.write(np.ascontiguousarray(column).data)


def _load_columns(staging: Store, path: str) -> list[np.ndarray]:
    """The rows of a 2-D .npy as separate arrays, read one after another."""
    with staging.open(path) as handle:
        np.lib.format.read_magic(handle)
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        columns = [np.empty(shape[1], dtype=dtype) for _ in range(shape[0])]
        for column in columns:
            if handle.readinto(memoryview(column).cast("B")) != column.nbytes:
                raise ValueError(f"{staging.url(path)} ends before its {shape} values")
    return columns


def _load(staging: Store, path: str) -> np.ndarray:
    with staging.open(path) as handle:
        return np.load(io.BytesIO(handle.read()), allow_pickle=False)


def save_plan(staging: Store, version: str, key: dict, stored: StoredPlan) -> None:
    """Writes the version's folder, ``plan.json`` last: a folder without it is no plan."""
    folder = plan_folder(staging, version)
    plan, state = stored.plan, stored.plan.state
    for name in _PLAN:
        _save(staging, posixpath.join(folder, f"{name}.npy"), getattr(plan, name))
    for name in _STATE:
        _save(staging, posixpath.join(folder, f"{name}.npy"), getattr(state, name))
    if state.index is not None:
        _save_columns(staging, posixpath.join(folder, "index_keys.npy"), state.index.keys)
        _save_columns(staging, posixpath.join(folder, "index_rows.npy"), state.index.rows)
    description = {
        "format": PLAN_FORMAT,
        "key": key,
        "inputs": stored.inputs,
        "starts": stored.starts,
        "pieces": [piece.name for piece in stored.pieces],
        "has_index": state.index is not None,
    }
    staging.write_text(posixpath.join(folder, _DESCRIPTION), json.dumps(description, sort_keys=True), replace=True)


def plan_description(staging: Store, version: str) -> dict | None:
    """The version's plan.json, or None when it has none."""
    path = posixpath.join(plan_folder(staging, version), _DESCRIPTION)
    if not staging.exists(path):
        return None
    description = json.loads(staging.read_text(path))
    return description if description.get("format") == PLAN_FORMAT else None


def load_plan(staging: Store, version: str, description: dict) -> StoredPlan:
    folder = plan_folder(staging, version)

    def array(name: str) -> np.ndarray:
        return _load(staging, posixpath.join(folder, f"{name}.npy"))

    columns = lambda name: _load_columns(staging, posixpath.join(folder, f"{name}.npy"))  # noqa: E731
    index = KeptIndex(columns("index_keys"), columns("index_rows")) if description["has_index"] else None
    state = PlanState(*(array(name) for name in _STATE), index)
    plan = CorpusPlan(*(np.asarray(array(name)) for name in _PLAN), state=state)
    pieces = [read_piece(staging, name) for name in description["pieces"]]
    return StoredPlan(plan, description["inputs"], description["starts"], pieces)
