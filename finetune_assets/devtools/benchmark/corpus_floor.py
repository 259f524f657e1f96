"""The corpus floor: DuckDB reads every registered weekly file and writes their exact-deduplicated union
(the earliest of each input and output) as one JSONL file, in one SQL statement."""

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

FLOOR_SQL = """
COPY (
    SELECT instruction, input, output, metadata
    FROM read_json($files, format = 'newline_delimited', filename = true)
    QUALIFY row_number() OVER (PARTITION BY input, output ORDER BY filename) = 1
) TO '{out}' (FORMAT json)
"""


@dataclass(frozen=True)
class CorpusFloor:
    seconds: float
    lines: int


def corpus_floor(files: list[Path], out: Path, runs: int) -> CorpusFloor:
    """Best of ``runs``; ``out`` is a path this code made (COPY takes its target as a literal)."""
    best = float("inf")
    for _ in range(runs):
        out.unlink(missing_ok=True)
        began = time.perf_counter()
        with duckdb.connect() as connection:
            connection.execute(FLOOR_SQL.format(out=str(out).replace("'", "''")), {"files": [str(f) for f in files]})
        best = min(best, time.perf_counter() - began)
    with open(out, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))
    out.unlink()
    return CorpusFloor(best, lines)
