"""Near-duplicate keys: MinHash signatures of each pair's shingles (rensa) cut into LSH bands.

Two pairs whose Jaccard similarity is at or above the threshold share at least one band key with
high probability, and pairs well below it almost never do; the band count and width for a threshold
are datasketch's, which minimise the weighted false positive and false negative rates.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from rensa import RMinHash

from .shingles import SLICE_ROWS, WIDTH, shingle_hashes

NUM_PERM = 128
SEED = 20261201  # fixed: signatures of one week, computed once, must match those of every other


@dataclass(frozen=True)
class Banding:
    threshold: float
    bands: int
    rows: int
    num_perm: int = NUM_PERM
    seed: int = SEED
    shingle_width: int = WIDTH

    @classmethod
    def for_threshold(cls, threshold: float) -> "Banding":
        bands, rows = _shape(round(threshold, 6))
        return cls(threshold, bands, rows)

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "bands": self.bands,
            "rows": self.rows,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "shingle_width": self.shingle_width,
            # Another rensa algorithm would give other signatures: kept signatures and version ids change.
            "minhash": f"rensa RMinHash v{RMinHash.ALGORITHM_VERSION}",
        }


@lru_cache(maxsize=8)
def _shape(threshold: float) -> tuple[int, int]:
    from datasketch import MinHashLSH  # only where the banding is chosen, not in the signing workers

    index = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return index.b, index.r


def _mix(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(31))
    values = values * np.uint64(0x9E3779B97F4A7C15)
    return values ^ (values >> np.uint64(29))


def band_keys(texts: pa.Array, banding: Banding) -> np.ndarray:
    """One row of ``banding.bands`` keys per text: two texts share a key in some column when their
    signatures agree on every value of that band."""
    keys = np.zeros((len(texts), banding.bands), dtype=np.uint64)
    # A slice at a time: the signatures come out of rensa as Python lists, 128 values a text.
    for start in range(0, len(texts), SLICE_ROWS):
        part = texts.slice(start, SLICE_ROWS)
        hashes, offsets = shingle_hashes(part, banding.shingle_width)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, banding.num_perm, banding.seed)
        signatures = np.array(matrix.to_rows(), dtype=np.uint64)
        used = signatures[:, : banding.bands * banding.rows].reshape(len(part), banding.bands, banding.rows)
        with np.errstate(over="ignore"):
            for position in range(banding.rows):
                keys[start : start + len(part)] = _mix(
                    keys[start : start + len(part)] * np.uint64(0x100000001B3) ^ used[:, :, position]
                )
    return keys
