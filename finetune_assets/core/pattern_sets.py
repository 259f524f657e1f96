"""Which of several RE2 patterns occur in a text, found in one pass instead of one search each."""

from collections.abc import Sequence

import re2


def union(patterns: Sequence[str]) -> str:
    """One RE2 pattern that matches where any of ``patterns`` does."""
    return "|".join(f"(?:{pattern})" for pattern in patterns)


class PatternSet:
    def __init__(self, patterns: Sequence[str]):
        self.patterns = tuple(patterns)
        self._set = re2.Set.SearchSet()
        for pattern in self.patterns:
            self._set.Add(pattern)
        self._set.Compile()
        self._union = re2.compile(union(self.patterns))

    def matching(self, text: str) -> list[int]:
        """The indices of the patterns found in ``text``, in order. RE2::Set answers nothing both for
        no match and for running out of memory on a long text: an empty answer is confirmed with the
        union, and if that finds something every pattern is tried."""
        found = self._set.Match(text)
        if found:
            return sorted(found)
        return list(range(len(self.patterns))) if self._union.search(text) else []
