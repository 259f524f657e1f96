"""Streaming query results: CSV pieces cut only between records, and both paths giving the same rows."""

import pytest

from finetune_assets.db.source_stream import csv_records

RECORDS = [b'1,"line one\nline two",x\n', b'2,"a ""quoted\n"" word",\n', b"3,plain,\n", b'4,"",""\n']


@pytest.mark.parametrize("piece_bytes", [1, 7, 30, 1000])
@pytest.mark.parametrize("chunk_size", [1, 5, 64])
def test_pieces_are_whole_records(piece_bytes, chunk_size):
    data = b"".join(RECORDS)
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    pieces = list(csv_records(chunks, piece_bytes))
    assert b"".join(pieces) == data
    boundaries = {sum(len(r) for r in RECORDS[: n + 1]) for n in range(len(RECORDS))}
    offset = 0
    for piece in pieces:
        offset += len(piece)
        assert offset in boundaries
