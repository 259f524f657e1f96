"""The LSH band keys of the rows a corpus plan kept, to find a new row's kept candidates by key.

One sorted column per band, each listing a bucket's rows in row order, so the first rows found for a
key are the earliest kept ones. Keys are cut to 32 bits: a collision only proposes a pair the exact
check refuses. The columns are separate arrays, and adding rows replaces them a band at a time (one
per core): the index is never held twice.
"""

from dataclasses import dataclass

import numpy as np

from .cores import each

# Rows are numbered in 32 bits in the index and the plan: half the memory, up to two billion pairs.
MAX_ROWS = np.iinfo(np.int32).max


# A pair of rows travels packed in one uint64, ``later row << 32 | earlier row``, so pairs sort by their
# later row, then their earlier one: half the memory of a two-column array while a chunk's candidates
# are gathered (the kernels pack them; near_pass unpacks them).


@dataclass
class KeptIndex:
    keys: list[np.ndarray]  # uint32 per band, sorted
    rows: list[np.ndarray]  # int32 per band: the kept row of each key

    @classmethod
    def empty(cls, bands: int) -> "KeptIndex":
        return cls([np.zeros(0, dtype=np.uint32)] * bands, [np.zeros(0, dtype=np.int32)] * bands)

    @property
    def bands(self) -> int:
        return len(self.keys)

    def candidates(self, keys: np.ndarray, rows: np.ndarray, heads: int, orders: list[np.ndarray]) -> np.ndarray:
        """(kept row, row) pairs sharing a key, packed (``later << 32 | earlier``): each row with the first
        ``heads`` kept rows of a bucket; ``orders``: per band, an order that sorts its keys."""
        from .kernels import bucket_heads

        pairs = each(
            lambda band: bucket_heads(
                self.keys[band], self.rows[band], keys[orders[band], band], rows[orders[band]], heads
            ),
            range(len(orders)),
        )
        return np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.uint64)

    def copy(self) -> "KeptIndex":
        """An index that rows can be added to while this one stays as it is (the columns are shared
        until replaced)."""
        return KeptIndex(list(self.keys), list(self.rows))

    def add(self, keys: np.ndarray, rows: np.ndarray, orders: list[np.ndarray] | None = None) -> None:
        """The given rows (later than any held), each bucket still in row order; ``orders``: per band,
        the order that sorts its keys, and the rows of equal keys (when the caller has it)."""
        if len(rows) and rows.max() >= MAX_ROWS:
            raise ValueError(f"a corpus of {rows.max() + 1:,} pairs is beyond the plan's {MAX_ROWS:,}")

        def add_to(band: int) -> None:
            order = orders[band] if orders is not None else np.lexsort((rows, keys[:, band]))
            # "right": an added row comes after the earlier rows of its key.
            at = np.searchsorted(self.keys[band], keys[order, band], "right")
            self.keys[band] = np.insert(self.keys[band], at, keys[order, band])
            self.rows[band] = np.insert(self.rows[band], at, rows[order].astype(np.int32))

        each(add_to, range(self.bands if len(rows) else 0))
