"""One pass tells which patterns occur, and an empty answer is never trusted blindly."""

from finetune_assets.core.pattern_sets import PatternSet

PATTERNS = [r"\bpass\w*", r"(?i)token", r"\d{4}-\d\d"]


class OutOfMemorySet:
    """RE2::Set's answer when its DFA runs out of memory: no match at all."""

    def Match(self, text):  # noqa: N802 (RE2's own name)
        return None


def test_the_patterns_found_are_named_in_order():
    patterns = PatternSet(PATTERNS)
    assert patterns.matching("on 2026-11 the TOKEN and the passphrase") == [0, 1, 2]
    assert patterns.matching("a Token only") == [1]
    assert patterns.matching("nothing here") == []


def test_an_empty_answer_from_a_starved_set_tries_every_pattern_if_the_union_finds_one():
    patterns = PatternSet(PATTERNS)
    patterns._set = OutOfMemorySet()
    assert patterns.matching("a Token only") == [0, 1, 2]
    assert patterns.matching("nothing here") == []
