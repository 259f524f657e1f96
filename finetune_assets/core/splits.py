"""The train/validation split: a side per group, from a stable hash of the group key.

A group's side depends only on its key and the fraction, never on the week or the other rows, so the
same alert stays on one side in every week and every re-run, and never lands on both.
"""

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Configuration name -> the pair column that holds the group.
SPLIT_KEYS = {"alertname": "alertname", "incident_id": "incident_id", "matched_playbook": "matched_playbook_id"}
SPLITS = ("train", "validation")
_SALT = b"finetune_assets split v1\0"


def in_validation(group: str, validation_fraction: float) -> bool:
    digest = hashlib.sha256(_SALT + group.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < validation_fraction * 2**64


def validation_mask(groups: pa.Array, validation_fraction: float) -> np.ndarray:
    """True for the rows whose group goes to validation; one hash per distinct group in the batch."""
    distinct = pc.unique(groups)
    sides = pa.array([in_validation(group, validation_fraction) for group in distinct.to_pylist()], pa.bool_())
    return pc.take(sides, pc.index_in(groups, value_set=distinct)).to_numpy(zero_copy_only=False)


def split_column(split_key: str) -> str:
    if split_key not in SPLIT_KEYS:
        raise ValueError(f"split_key must be one of {', '.join(SPLIT_KEYS)}, not {split_key!r}")
    return SPLIT_KEYS[split_key]
