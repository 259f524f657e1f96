"""Exact duplicates: a pair is identified by a digest of its input and output, and of each digest only
the latest pair (by export order) is kept."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import xxhash

from .arrays import value_offsets

DIGEST_SIZE = 16
# XXH3's 128-bit hash: two of a corpus's two million pairs share a digest by chance with odds of about
# one in 10^26, and it hashes at memory speed (a cryptographic digest took 2.3 µs a pair, most of the
# corpus check's time). It is no defence against a pair crafted to collide with another, which could
# only drop that pair.
# Digests kept between runs (a week's signatures, a corpus plan) name it, so a change recomputes them.
EXACT_DIGEST = "xxh3-128 of len(input) (8 bytes, little-endian), input, output (UTF-8)"
# Digests compared as raw bytes: numpy sorts void values about four times faster than byte strings.
DIGEST_DTYPE = np.dtype(f"V{DIGEST_SIZE}")


def pair_digest(pair_input: bytes, pair_output: bytes) -> bytes:
    """Identifies a pair by its input and output (UTF-8): equal digests are exact duplicates."""
    digest = xxhash.xxh3_128(len(pair_input).to_bytes(8, "little"))
    digest.update(pair_input)
    digest.update(pair_output)
    return digest.digest()


def _bytes_and_offsets(column: pa.Array | pa.ChunkedArray) -> tuple[memoryview, list[int]]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    column = column.fill_null("").cast(pa.large_binary())
    data = column.buffers()[2]
    return memoryview(data if data is not None else b""), value_offsets(column).tolist()


def pair_digests(inputs: pa.Array | pa.ChunkedArray, outputs: pa.Array | pa.ChunkedArray) -> bytes:
    """Each row's pair digest (``pair_digest``), back to back. The UTF-8 bytes are hashed where the
    columns hold them, through views (no bytes object a text); a null counts as empty."""
    (data_in, at_in), (data_out, at_out) = _bytes_and_offsets(inputs), _bytes_and_offsets(outputs)
    hasher, digests = xxhash.xxh3_128, []
    for row in range(len(inputs)):
        start, end = at_in[row], at_in[row + 1]
        digest = hasher((end - start).to_bytes(8, "little"))
        digest.update(data_in[start:end])
        digest.update(data_out[at_out[row] : at_out[row + 1]])
        digests.append(digest.digest())
    return b"".join(digests)


def distinct_count(digests: bytes | bytearray) -> int:
    return len(np.unique(np.frombuffer(digests, dtype=DIGEST_DTYPE)))


@dataclass
class Digests:
    """Each pair's ordinal and digest: 24 bytes a pair, the only state that grows with the week."""

    ordinals: list[np.ndarray]
    digests: bytearray

    @classmethod
    def empty(cls) -> "Digests":
        return cls([], bytearray())

    def add(self, ordinals: np.ndarray, digests: bytes) -> None:
        self.ordinals.append(ordinals)
        self.digests += digests

    def keep_mask(self) -> np.ndarray:
        """Indexed by ordinal: True for the latest (highest ordinal) pair of each digest."""
        ordinals = np.concatenate(self.ordinals) if self.ordinals else np.zeros(0, dtype=np.int64)
        digests = np.frombuffer(self.digests, dtype=DIGEST_DTYPE)
        latest_first = np.argsort(ordinals, kind="stable")[::-1]
        _, first = np.unique(digests[latest_first], return_index=True)
        keep = np.zeros(int(ordinals.max()) + 1 if len(ordinals) else 0, dtype=bool)
        keep[ordinals[latest_first[first]]] = True
        return keep
