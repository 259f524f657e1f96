"""The near-duplicate floor: a bare rensa MinHash + LSH script over the same registered weekly files.
It reads each file, shingles input + output as the corpus does, signs them, flags every pair that
shares an LSH band with one seen before (or in the same week) and writes the others, with none of the
corpus's guarantees (no exact check of candidates, no sides, no shards, no registration): what
near-duplicate work costs at the least."""

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from rensa import RMinHash, RMinHashLSH

from ...core.near_duplicates import NUM_PERM, SEED
from ...core.shingles import shingle_hashes
from .corpus_floor import CorpusFloor

BANDS = 16  # rensa's LSH wants the permutations cut evenly


def rensa_floor(files: list[Path], out: Path, threshold: float, runs: int) -> CorpusFloor:
    """Best of ``runs``; ``out`` holds the kept lines of the last."""
    best, kept = float("inf"), 0
    for _ in range(runs):
        began = time.perf_counter()
        kept = _deduplicate(files, out, threshold)
        best = min(best, time.perf_counter() - began)
    out.unlink()
    return CorpusFloor(best, kept)


def _deduplicate(files: list[Path], out: Path, threshold: float) -> int:
    index, key, kept = RMinHashLSH(threshold, NUM_PERM, BANDS), 0, 0
    with open(out, "wb") as sink:
        for path in files:
            raw = path.read_bytes()
            lines = raw.splitlines(keepends=True)
            table = pj.read_json(pa.BufferReader(raw))
            texts = pc.binary_join_element_wise(table.column("input"), table.column("output"), "\n")
            hashes, offsets = shingle_hashes(texts.combine_chunks())
            matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, NUM_PERM, SEED)
            flags = index.insert_matrix_and_query_duplicate_flags(matrix, key)
            key += len(lines)
            chosen = [line for line, duplicate in zip(lines, flags, strict=True) if not duplicate]
            sink.write(b"".join(chosen))
            kept += len(chosen)
    return kept
