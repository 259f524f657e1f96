"""The signatures of the weeks a corpus plan takes, read as the plan asks for them: a week's band keys
and shingle sets when the plan reaches it, the kept rows' sets from ``kept_sets``. Apart from the
signing (``week_signatures``), whose worker processes never compare and so never load the compiler."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.corpus_card import CorpusInput
from ..core.near_duplicates import Banding
from ..core.set_similarity import gathered_sets, reaching
from . import arrow_memory
from .kept_sets import KeptSets
from .store import Store
from .week_signatures import read_signatures


class WeekSignatures:
    """The near-duplicate signatures of the weeks a plan takes (back to back, ``starts`` the first row
    of each and, last, the end; rows numbered after ``kept``'s earlier rows), read from each week's file
    as the plan asks: a week's band keys and shingle sets once, when the plan reaches it. The sets of the
    rows it keeps go to ``kept``, since later weeks are compared with those only."""

    def __init__(self, staging: Store, inputs: list[CorpusInput], banding: Banding, starts: np.ndarray, kept: KeptSets):
        self._staging, self._inputs, self._banding, self._starts = staging, inputs, banding, starts
        self._week: tuple[int, np.ndarray, np.ndarray] | None = None  # (week, its sets, their offsets)
        self.kept = kept

    def _read(self, week: int, *columns: str) -> pa.Table:
        return read_signatures(self._staging, self._inputs[week], self._banding, columns)

    def _week_of(self, first: int, end: int) -> int:
        week = int(np.searchsorted(self._starts, first))
        if self._starts[week] != first or self._starts[week + 1] != end:
            raise ValueError(f"rows {first} to {end} are not one week of this plan (weeks start at {self._starts})")
        return week

    def bands(self, first: int, end: int) -> np.ndarray:
        week = self._week_of(first, end)
        table = self._read(week, "bands", "shingles")  # the plan compares this week's rows next: one read
        self._hold_sets(week, table.column("shingles").combine_chunks())
        column = table.column("bands").combine_chunks()
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), self._banding.bands)

    def _hold_sets(self, week: int, column: pa.Array) -> None:
        sizes = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
        values = column.flatten().to_numpy(zero_copy_only=False)
        self._week = (week, values, np.concatenate([[0], np.cumsum(sizes)]))

    def _sets_of_week(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        if self._week is None or self._week[0] != week:
            self._hold_sets(week, self._read(week, "shingles").column("shingles").combine_chunks())
        return self._week[1], self._week[2]

    def remember(self, rows: np.ndarray) -> None:
        """The plan keeps these rows (of the week it planned last): later weeks may be compared with them."""
        if not len(rows):
            return
        week, (values, offsets) = self._week[0], self._sets_of_week(self._week[0])
        local = rows - self._starts[week]
        sizes = offsets[local + 1] - offsets[local]
        kept_offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.kept.add(self._inputs[week].week, rows, kept_offsets, gathered_sets(values, offsets[local], sizes))
        arrow_memory.hand_back()  # the week's arrays are gone: the next week starts from what is held

    def similar(self, first: np.ndarray, second: np.ndarray, enough: int = 0) -> np.ndarray:
        """Exact Jaccard >= the threshold (``enough``: as ``set_similarity.reaching`` takes it), for rows of
        the week planned now or kept ones."""
        # The rows named, and each one's place among them, through a table over every row of the plan:
        # two passes over the pairs, where sorting them and searching each took a tenth of the plan.
        named = np.zeros(int(self._starts[-1]), dtype=bool)
        named[first] = True
        named[second] = True
        rows = np.flatnonzero(named)
        place = np.empty(len(named), dtype=np.int64)
        place[rows] = np.arange(len(rows))
        week = self._week[0] if self._week else 0
        current = int(np.searchsorted(rows, self._starts[week]))
        values, offsets = self._sets_of_week(week)
        local = rows[current:] - self._starts[week]
        sizes = offsets[local + 1] - offsets[local]
        own = int(sizes.sum())
        flat, kept_sizes = self.kept.gather(rows[:current], room=own)
        gathered_sets(values, offsets[local], sizes, flat[len(flat) - own :])
        offsets = np.concatenate([[0], np.cumsum(np.concatenate([kept_sizes, sizes]))]).astype(np.int64)
        at_first, at_second = place[first], place[second]
        return reaching(flat, offsets, at_first, at_second, self._banding.threshold, enough)
