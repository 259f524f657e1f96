"""Python's strip() semantics at column speed."""

import pyarrow as pa
import pytest

from finetune_assets.core.text import non_blank, stripped

VALUES = [
    "plain",
    "  padded  ",
    "\tTabbed\n",
    "\u3000全形空白\u3000",
    "\x1cfile separator\x1f",
    "",
    " ",
    "\x1c",
    "inner  space",
    "\u2028line sep",
    "trailing nbsp\xa0",
    "𝔘𝔫𝔦 ",
    "e\u0301",
]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_stripped_matches_str_strip(kind):
    assert stripped(pa.array(VALUES, kind)).to_pylist() == [value.strip() for value in VALUES]


def test_non_blank_matches_str_strip():
    assert non_blank(pa.array(VALUES, pa.large_string())).tolist() == [bool(value.strip()) for value in VALUES]


def test_the_trim_set_is_every_character_python_strips():
    from finetune_assets.core.text import PYTHON_WHITESPACE

    assert {"\x1c", "\x1f", "\x85", "\u3000", "\u2028"} <= set(PYTHON_WHITESPACE)
    assert ("x" + PYTHON_WHITESPACE + "x").strip("x").strip() == ""
    assert "\u200b" not in PYTHON_WHITESPACE  # zero-width space: not white space to Python
