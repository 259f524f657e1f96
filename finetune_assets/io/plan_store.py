"""A corpus version's plan, kept in the staging store so that the next version plans only the weeks it
adds (``plan_state.extend_plan``): the plan's arrays and state in a folder of the version's, and the
names of the pieces of kept rows' shingle sets it compares with (``kept_sets``, shared between the
versions that extend one another).

A cache: a folder that is missing, or made for other inputs or another policy, means the next build
plans every week from the registered files.
"""

import json
import posixpath
from dataclasses import dataclass

import numpy as np

from ..core.corpus_plan import CorpusPlan, PlanState
from ..core.kept_index import KeptIndex
from .kept_sets import SetPiece, read_piece
from .npy_files import load_array, load_columns, save_array, save_columns
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


def save_plan(staging: Store, version: str, key: dict, stored: StoredPlan) -> None:
    """Writes the version's folder, ``plan.json`` last: a folder without it is no plan."""
    folder = plan_folder(staging, version)
    plan, state = stored.plan, stored.plan.state
    for name in _PLAN:
        save_array(staging, posixpath.join(folder, f"{name}.npy"), getattr(plan, name))
    for name in _STATE:
        save_array(staging, posixpath.join(folder, f"{name}.npy"), getattr(state, name))
    if state.index is not None:
        save_columns(staging, posixpath.join(folder, "index_keys.npy"), state.index.keys)
        save_columns(staging, posixpath.join(folder, "index_rows.npy"), state.index.rows)
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
        return load_array(staging, posixpath.join(folder, f"{name}.npy"))

    columns = lambda name: load_columns(staging, posixpath.join(folder, f"{name}.npy"))  # noqa: E731
    index = KeptIndex(columns("index_keys"), columns("index_rows")) if description["has_index"] else None
    state = PlanState(*(array(name) for name in _STATE), index)
    plan = CorpusPlan(*(np.asarray(array(name)) for name in _PLAN), state=state)
    pieces = [read_piece(staging, name) for name in description["pieces"]]
    return StoredPlan(plan, description["inputs"], description["starts"], pieces)
