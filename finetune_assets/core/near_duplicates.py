"""Near-duplicate candidates and their check: MinHash signatures of each pair's shingles (rensa) cut
into LSH bands, and exact Jaccard similarity on the shingle sets.

Bands only propose: two texts sharing a band key are a candidate pair, and a candidate is a near
duplicate only when the exact Jaccard similarity of its shingle sets reaches the threshold. So the
bands are chosen for recall (narrow, many: a pair at the threshold shares one with odds of at least
``RECALL_AT_THRESHOLD``) and the exact check gives the precision.
"""

import array
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from rensa import RMinHash

from .shingles import NORMALIZATION, WIDTH, shingle_hashes, shingle_sets

NUM_PERM = 128
SEED = 20261201  # fixed: signatures of one week, computed once, must match those of every other
RECALL_AT_THRESHOLD = 0.99999
# Texts signed a slice at a time: rensa hands a slice's signatures to Python as lists, 128 integers of
# about 36 bytes each a text (18 MB for 4,096 texts, 4.5 MB for these).
SIGN_ROWS = 1024


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
        return cls(threshold, bands, rows, num_perm=bands * rows)  # rensa computes the values used only

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "bands": self.bands,
            "rows": self.rows,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "shingle_width": self.shingle_width,
            "normalization": NORMALIZATION,
            "verified": "exact Jaccard of the shingle sets",
            # Another rensa algorithm would give other signatures: kept signatures and version ids change.
            "minhash": f"rensa RMinHash v{RMinHash.ALGORITHM_VERSION}",
        }


@lru_cache(maxsize=8)
def _shape(threshold: float) -> tuple[int, int]:
    """The widest bands (the fewest candidates to check), then the fewest of them (the least signing,
    keying and indexing a pair), of at most ``NUM_PERM`` values, for which a pair at the threshold still
    shares a band with odds of ``RECALL_AT_THRESHOLD``: 20 bands of 5 values at 0.85 (a pair there
    missed once in 124,000; every value more is a band no recall target asks for)."""
    for rows in range(NUM_PERM, 0, -1):
        for bands in range(1, NUM_PERM // rows + 1):
            if 1 - (1 - threshold**rows) ** bands >= RECALL_AT_THRESHOLD:
                return bands, rows
    return NUM_PERM, 1


def _mix(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(31))
    values = values * np.uint64(0x9E3779B97F4A7C15)
    return values ^ (values >> np.uint64(29))


@dataclass(frozen=True)
class Signatures:
    bands: np.ndarray  # texts x bands: two texts share a key in some column when their MinHash
    # signatures agree on every value of that band
    sets: np.ndarray  # every text's distinct shingles, sorted, back to back (``shingle_sets``)
    offsets: np.ndarray  # len(texts) + 1 offsets into ``sets``


def near_duplicate_signatures(texts: pa.Array, banding: Banding) -> Signatures:
    # Shingled whole (its normalisation runs once over the distinct words of every text), signed a
    # slice at a time.
    hashes, offsets = shingle_hashes(texts, banding.shingle_width)
    sets, set_offsets = shingle_sets(hashes, offsets)
    keys = np.zeros((len(texts), banding.bands), dtype=np.uint64)
    for start in range(0, len(texts), SIGN_ROWS):
        end = min(start + SIGN_ROWS, len(texts))
        lo, hi = int(offsets[start]), int(offsets[end])
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(
            hashes[lo:hi], offsets[start : end + 1] - offsets[start], banding.num_perm, banding.seed
        )
        used = _digests(matrix)[:, : banding.bands * banding.rows].reshape(end - start, banding.bands, banding.rows)
        with np.errstate(over="ignore"):
            for position in range(banding.rows):
                keys[start:end] = _mix(keys[start:end] * np.uint64(0x100000001B3) ^ used[:, :, position])
    return Signatures(keys, sets, set_offsets)


# The array typecode of a 32-bit unsigned value: rensa's digests are u32 ("I" on every usual platform).
_U32 = next(code for code in "IL" if array.array(code).itemsize == 4)


def _digests(matrix) -> np.ndarray:
    """The matrix's rows as an array: rensa hands them out only as lists; appended to one buffer, they
    become an array faster than numpy converts the nested lists."""
    flat = array.array(_U32)
    for row in matrix.to_rows():
        flat.extend(row)
    return np.frombuffer(flat, dtype=np.uint32).astype(np.uint64).reshape(matrix.len(), matrix.get_num_perm())
