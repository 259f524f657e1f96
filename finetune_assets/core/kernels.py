"""The project's compiled loops (numba), each over millions of pairs or rows a corpus build: kept in one
module that is imported only when one of them is first called, so importing the plan's modules (the
code location, the workers that sign weeks) never loads the compiler."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def shared_values(values, a, a_end, b, b_end, needed):
    """Values the rows share, or -1 once fewer than ``needed`` can still be shared."""
    count = 0
    while a < a_end and b < b_end:
        if count + min(a_end - a, b_end - b) < needed:
            return -1
        left, right = values[a], values[b]
        if left == right:
            count += 1
            a += 1
            b += 1
        elif left < right:
            a += 1
        else:
            b += 1
    return count if count >= needed else -1


@numba.njit(cache=True, nogil=True)
def jaccard(values, offsets, first, second):
    out = np.empty(len(first), dtype=np.float64)
    for k in range(len(first)):
        a, b = first[k], second[k]
        shared = shared_values(values, offsets[a], offsets[a + 1], offsets[b], offsets[b + 1], 0)
        union = offsets[a + 1] - offsets[a] + offsets[b + 1] - offsets[b] - shared
        out[k] = shared / max(union, 1)
    return out


@numba.njit(cache=True, nogil=True)
def reaching(values, offsets, first, second, threshold, enough):
    out = np.zeros(len(first), dtype=np.bool_)
    found, current = 0, -1
    for k in range(len(first)):
        b = second[k]
        if b != current:
            current, found = b, 0
        if enough and found >= enough:
            continue
        a = first[k]
        total = offsets[a + 1] - offsets[a] + offsets[b + 1] - offsets[b]
        # J >= t is shared >= t * total / (1 + t); one less keeps float rounding on the safe side,
        # and the division below decides.
        needed = max(int(threshold * total / (1 + threshold)) - 1, 0)
        shared = shared_values(values, offsets[a], offsets[a + 1], offsets[b], offsets[b + 1], needed)
        if shared >= 0 and shared / max(total - shared, 1) >= threshold:
            out[k] = True
            found += 1
    return out


@numba.njit(cache=True, nogil=True)
def copy_runs(values, starts, sizes, out):
    at = 0
    for k in range(len(starts)):
        out[at : at + sizes[k]] = values[starts[k] : starts[k] + sizes[k]]
        at += sizes[k]


@numba.njit(cache=True, nogil=True)
def root(parent, row):
    while parent[row] != row:
        parent[row] = parent[parent[row]]  # halve the path: later lookups take fewer steps
        row = parent[row]
    return row


@numba.njit(cache=True, nogil=True)
def link(parent, sources, targets):
    for k in range(len(sources)):
        a, b = root(parent, sources[k]), root(parent, targets[k])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b


@numba.njit(cache=True, nogil=True)
def flatten(parent):
    for row in range(len(parent)):
        parent[row] = root(parent, row)


@numba.njit(cache=True, nogil=True)
def bucket_heads(index_keys, index_rows, query, query_rows, heads):
    """For sorted ``query`` keys (rows ``query_rows``): the pairs (the first ``heads`` index rows of the
    key, the query's row), packed ``later << 32 | earlier``. One walk down both sorted
    arrays: the index is long and each week's queries few, so binary searches spent their time in cache
    misses."""
    n, m = len(index_keys), len(query)
    left = np.empty(m, dtype=np.int64)
    count = np.empty(m, dtype=np.int64)
    i, total = 0, 0
    for j in range(m):
        key = query[j]
        while i < n and index_keys[i] < key:
            i += 1
        found = 0
        while i + found < n and found < heads and index_keys[i + found] == key:
            found += 1
        left[j], count[j] = i, found
        total += found
    out = np.empty(total, dtype=np.uint64)
    at = 0
    for j in range(m):
        later = np.uint64(query_rows[j]) << np.uint64(32)
        for k in range(count[j]):
            out[at] = later | np.uint64(index_rows[left[j] + k])
            at += 1
    return out


@numba.njit(cache=True, nogil=True)
def within_buckets(keys, rows, heads):
    """For keys sorted with their rows (a bucket's rows in row order): each row paired with its bucket's
    first ``heads`` rows before it, packed ``later << 32 | earlier``."""
    total, start = 0, 0
    for i in range(len(keys)):
        if i and keys[i] != keys[i - 1]:
            start = i
        total += min(i - start, heads)
    out = np.empty(total, dtype=np.uint64)
    at, start = 0, 0
    for i in range(len(keys)):
        if i and keys[i] != keys[i - 1]:
            start = i
        later = np.uint64(rows[i]) << np.uint64(32)
        for head in range(min(i - start, heads)):
            out[at] = later | np.uint64(rows[start + head])
            at += 1
    return out
