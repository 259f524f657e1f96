"""Token shingles of texts as 64-bit hashes, a column at a time: what near-duplicate detection hashes.

A text is normalized (``normalized``) and split on white space; a shingle is ``WIDTH`` tokens in a
row. Normalizing turns what varies between copies of one alert template (numbers, hex ids, UUIDs,
IPs, timestamps, host-name suffixes) into one placeholder token and makes each CJK character a token,
so copies of a template are near duplicates whatever their variable parts, and Chinese written
without spaces is shingled by character n-grams rather than as one token per clause.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import distinct, gather_runs, value_offsets

WIDTH = 3
# Bumped whenever ``normalized`` or the shingling changes: signatures and versions carry it.
NORMALIZATION = (
    "3: NFKC, lower case, format characters dropped; UUIDs, hex ids of 8+ and words holding a digit -> 0; "
    "CJK characters one token each; punctuation splits"
)
# RE2 patterns, applied in order (Arrow's regex kernels: linear time, a column at a time).
_REWRITES = (
    (r"\p{Cf}+", ""),  # zero-width and other invisible format characters
    (r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|\b[0-9a-f]{8,}\b", " 0 "),
    # Numbers, IPs, timestamps, versions, pod and host suffixes (worker-17, api-7f9c8d): a run of
    # ASCII letters and digits holding a digit.
    (r"[a-z0-9_]*[0-9][a-z0-9_]*", " 0 "),
    (r"([\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}])", r" \1 "),
    (r"[^\p{L}\p{N}\p{M}]+", " "),
    # 10.0.3.7 and 2026-11-09T10:22:33Z are one variable part each, not four or six.
    (r"\b0(?: 0\b)+", "0"),
)
# Texts are hashed a slice at a time, so the tables of powers stay small (tens of MB) and are reused.
SLICE_ROWS = 4096
# A token's hash is a polynomial in its bytes (FNV's 64-bit prime), normalized by its start position
# so that equal tokens hash equally wherever they stand; splitmix64 then spreads the bits.
_PRIME = np.uint64(1099511628211)
_PRIME_INVERSE = np.uint64(pow(1099511628211, -1, 2**64))


def _mix(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


_tables: list[np.ndarray] = []


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """Powers of the prime and of its inverse for ``length`` positions: a table that only grows."""
    if not _tables or len(_tables[0]) < length:
        size = 1 << max(length - 1, 1).bit_length()
        with np.errstate(over="ignore"):
            _tables[:] = [np.cumprod(np.full(size, factor, dtype=np.uint64)) for factor in (_PRIME, _PRIME_INVERSE)]
    return _tables[0], _tables[1]


def _token_hashes(tokens: pa.LargeStringArray) -> np.ndarray:
    offsets = value_offsets(tokens)
    if not len(tokens):
        return np.zeros(0, dtype=np.uint64)
    data = np.frombuffer(tokens.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    starts = offsets[:-1] - offsets[0]
    # Powers by byte position in the slice: one pass, where powers by position within each token
    # would need that position computed per byte.
    powers, inverse = _powers(len(data))
    sums = np.add.reduceat(data * powers[: len(data)], starts)
    return _mix(sums * inverse[starts] ^ np.diff(offsets).astype(np.uint64))


def shingle_hashes(texts: pa.Array, width: int = WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Every text's shingle hashes back to back, and the row offsets into them (``len(texts) + 1``
    values). A text of fewer than ``width`` tokens has one shingle: all of its tokens."""
    parts = [_slice_shingles(texts.slice(start, SLICE_ROWS), width) for start in range(0, len(texts), SLICE_ROWS)]
    if not parts:
        return np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.uint64)
    counts = np.concatenate([np.diff(offsets) for _, offsets in parts])
    return np.concatenate([hashes for hashes, _ in parts]), np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64)


# The placeholder token, whose neighbours fold into it.
_ZERO = _token_hashes(pa.array(["0"], pa.large_string()))[0]


def normalized(texts: pa.Array) -> pa.Array:
    """The texts as shingling sees them: ``Pod api-7f9c8d restarted 3 times`` -> ``pod api 0 restarted 0 times``."""
    texts = pc.utf8_lower(pc.utf8_normalize(texts.fill_null(""), form="NFKC"))
    for pattern, replacement in _REWRITES:
        texts = pc.replace_substring_regex(texts, pattern=pattern, replacement=replacement)
    return texts


def shingle_sets(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingles (from ``shingle_hashes``) as sorted 32-bit values, back to back,
    and the row offsets into them: what exact Jaccard similarity is computed on. 32 bits keep the sets
    small; two shingles of a pair of texts collide with odds of about one in 400,000 for texts of a
    hundred shingles."""
    rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets).astype(np.int64))
    pairs = distinct((rows.astype(np.uint64) << np.uint64(32)) | (hashes >> np.uint64(32)))
    counts = np.bincount((pairs >> np.uint64(32)).astype(np.int64), minlength=len(offsets) - 1)
    return (pairs & np.uint64(0xFFFFFFFF)).astype(np.uint32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def split_whitespace(texts: pa.Array) -> pa.ListArray:
    """``pc.utf8_split_whitespace``, made deterministic. Arrow (26) reads past the end of the data when
    it ends on a 64-byte boundary, so the last string's trailing white space may stay in its last word,
    depending on the memory there; a string put after it, whose words are dropped, keeps it from the end."""
    guarded = pa.concat_arrays([texts, pa.array(["x"], texts.type)])
    return pc.utf8_split_whitespace(guarded).slice(0, len(texts))


def _pieces(words: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct white-space-separated word, normalized: the hashes of the tokens it becomes
    (``pod/api-7f9c8d,`` -> pod, api, 0; a CJK clause -> one token a character), back to back, and
    how many each word gives."""
    tokens = split_whitespace(normalized(words))
    counts = pc.list_value_length(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(tokens).cast(pa.large_string())
    # Leading, trailing and repeated white space leave empty tokens: they are not words.
    real = pc.greater(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
    if not real.all():
        counts = np.bincount(np.repeat(np.arange(len(counts)), counts)[real], minlength=len(counts)).astype(np.int64)
        flat = flat.filter(pa.array(real))
    return _token_hashes(flat), counts


def _normalized_tokens(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of the tokens of ``normalized(texts)``, back to back, and the count per text. The
    rewrites run on the distinct words only (incident text repeats its words a great deal), which
    gives the same tokens: no rewrite reaches across white space but the folding of placeholders,
    done here."""
    words = split_whitespace(texts.fill_null(""))
    per_text = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    encoded = pc.dictionary_encode(pc.list_flatten(words))
    pieces, per_word = _pieces(encoded.dictionary.cast(pa.large_string()))
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    sizes = per_word[indices]
    firsts = (np.cumsum(per_word) - per_word)[indices]
    hashes = gather_runs(pieces, firsts, sizes)
    rows = np.repeat(np.repeat(np.arange(len(per_text)), per_text), sizes)
    # 10.0.3.7 2026-11-09: the placeholders of neighbouring words fold into one, as within a word.
    zero = hashes == _ZERO
    repeated = zero & np.concatenate([[False], zero[:-1] & (rows[1:] == rows[:-1])])
    return hashes[~repeated], np.bincount(rows[~repeated], minlength=len(per_text)).astype(np.int64)


def _slice_shingles(texts: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore"):
        hashes, counts = _normalized_tokens(texts)
        # Short texts are padded with zero hashes so that each still has one (whole) shingle.
        padded_counts = np.maximum(counts, width)
        padded = np.zeros(int(padded_counts.sum()), dtype=np.uint64)
        token_rows = np.repeat(np.arange(len(counts)), counts)
        starts = np.concatenate([[0], np.cumsum(padded_counts)[:-1]]).astype(np.int64)
        token_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        padded[starts[token_rows] + np.arange(len(hashes)) - token_starts[token_rows]] = hashes
        windows = len(padded) - width + 1
        shingles = padded[: max(windows, 0)].copy()
        for step in range(1, width):
            shingles = _mix(shingles * np.uint64(31) ^ padded[step : step + windows])
        ends = starts + padded_counts  # a window is a shingle when it lies inside one text
        window_rows = np.repeat(np.arange(len(counts)), padded_counts)[: max(windows, 0)]
        inside = np.arange(max(windows, 0)) + width <= ends[window_rows]
        per_row = padded_counts - width + 1
        offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.uint64)
        return shingles[inside], offsets
