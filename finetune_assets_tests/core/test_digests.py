"""Exact duplicates: pair digests, and the latest of each kept."""

import numpy as np
import pyarrow as pa

from finetune_assets.core.digests import Digests, pair_digest, pair_digests


def test_keep_mask_keeps_the_highest_ordinal_of_each_digest():
    digests = Digests([np.array([5, 1]), np.array([3, 2, 4])], bytearray())
    for tag in [b"a", b"b", b"a", b"c", b"b"]:
        digests.digests += tag * 16
    assert np.flatnonzero(digests.keep_mask()).tolist() == [2, 4, 5]


def test_digest_tells_input_from_output():
    assert pair_digest(b"ab", b"c") != pair_digest(b"a", b"bc")
    assert pair_digest(b"a", b"b") == pair_digest(b"a", b"b")


def test_column_digests_are_the_pair_digests_of_the_utf8_text():
    inputs, outputs = pa.array(["中文", None, "a"], pa.large_string()), pa.array(["x", "y", "b"], pa.string())
    expected = pair_digest("中文".encode(), b"x") + pair_digest(b"", b"y") + pair_digest(b"a", b"b")
    assert pair_digests(inputs, outputs) == expected


def test_column_digests_read_slices_chunks_and_empty_columns_where_they_start():
    texts = ["alpha", "", None, "δέλτα", "epsilon"]
    inputs, outputs = pa.array(texts, pa.string()), pa.array(list(reversed(texts)), pa.large_string())
    paired = zip(texts, reversed(texts), strict=True)
    one_by_one = [pair_digest((a or "").encode(), (b or "").encode()) for a, b in paired]
    assert pair_digests(inputs.slice(1, 3), outputs.slice(1, 3)) == b"".join(one_by_one[1:4])
    chunked = pa.chunked_array([inputs.slice(0, 2), inputs.slice(2)])
    assert pair_digests(chunked, outputs) == b"".join(one_by_one)
    empty = pa.array([None, ""], pa.string())
    assert pair_digests(empty, empty) == pair_digest(b"", b"") * 2
    assert pair_digests(empty.slice(0, 0), empty.slice(0, 0)) == b""
