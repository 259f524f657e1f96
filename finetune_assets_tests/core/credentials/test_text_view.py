"""The view folds spellings together and maps every position back to the characters as written."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_assets.core.credentials import text_view
from finetune_assets.core.credentials.text_view import TextView


def test_ascii_text_is_its_own_view():
    view = TextView.of("password=x\nnext")
    assert view.text == view.original and view.anchors == ()
    assert view.line_end(0) == 10 and view.line_start(12) == 11


@pytest.mark.parametrize(
    "written, read",
    [
        ("ｐａｓｓｗｏｒｄ＝abc", "password=abc"),
        ("pass\u200bword=abc", "password=abc"),
        ("\ufeffpass\u00adwd=abc", "passwd=abc"),
        ("ﬁle=x", "file=x"),  # one character folded into two
        ("密碼：值，下一句", "密碼:值，下一句"),  # the full-width comma ends a value as written
    ],
)
def test_spellings_a_person_reads_alike_are_read_alike(written, read):
    assert TextView.of(written).text == read


def test_a_span_in_the_view_maps_to_the_characters_written():
    written = "x pass\u200bword=Sécret\u200b9 y"
    view = TextView.of(written)
    start = view.text.index("Sécret9")
    begin, end = view.span(start, start + len("Sécret9"))
    assert written[begin:end] == "Sécret\u200b9"
    assert written[: view.position(view.text.index("password"))] == "x "


def test_a_span_ending_inside_an_expanded_character_takes_the_whole_character():
    written = "aﬁb"
    view = TextView.of(written)
    assert view.text == "afib"
    assert view.span(0, 2) == (0, 2)  # "af": half of "ﬁ" is all of it
    assert view.span(3, 4) == (2, 3)


@settings(max_examples=2000, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
def test_a_text_read_as_written_as_a_whole_is_so_character_by_character(text):
    """The shortcut for text that NFKC leaves alone gives the view the character walk would."""
    if text_view._reads_as_written(text):
        assert "".join(text_view._fold(char) for char in text) == text


@pytest.mark.parametrize(
    "text, shortcut",
    [
        ("節點 worker-1 發生告警", True),
        ("café", True),
        ("pass\u200bword", False),
        ("ｐａｓｓ", False),
        ("密碼：abc", False),
    ],
)
def test_the_shortcut_is_taken_only_where_nothing_folds(text, shortcut):
    assert text_view._reads_as_written(text) == shortcut
    view = TextView.of(text)
    assert (view.text == text and not view.anchors) == shortcut
