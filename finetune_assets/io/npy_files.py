"""Numpy arrays as .npy files in a store: what a corpus plan keeps between versions.

Each file is named by the version that wrote it, which names its inputs and policy, so a file already
there holds the same bytes (another build of that version, say another instance sharing the staging
store): writing replaces it whole rather than refusing.
"""

import io

import numpy as np

from .store import Store


def save_array(staging: Store, path: str, array: np.ndarray) -> None:
    with staging.writing(path, replace=True) as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def load_array(staging: Store, path: str, mapped: bool = False) -> np.ndarray:
    """``mapped``: on a local disk, only the pages read count as memory (a comparison maps what it needs)."""
    if mapped and staging.is_local:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    with staging.open(path) as handle:
        return np.load(io.BytesIO(handle.read()), allow_pickle=False)


def save_columns(staging: Store, path: str, columns: list[np.ndarray]) -> None:
    """Equal-length 1-D arrays as one 2-D .npy, written a column at a time (never stacked in memory)."""
    header = {"descr": np.lib.format.dtype_to_descr(columns[0].dtype), "fortran_order": False,
              "shape": (len(columns), len(columns[0]))}  # fmt: skip
    with staging.writing(path, replace=True) as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for column in columns:
            handle.write(np.ascontiguousarray(column).data)


def load_columns(staging: Store, path: str) -> list[np.ndarray]:
    """The rows of a 2-D .npy as separate arrays, read one after another."""
    with staging.open(path) as handle:
        np.lib.format.read_magic(handle)
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        columns = [np.empty(shape[1], dtype=dtype) for _ in range(shape[0])]
        for column in columns:
            if handle.readinto(memoryview(column).cast("B")) != column.nbytes:
                raise ValueError(f"{staging.url(path)} ends before its {shape} values")
    return columns
