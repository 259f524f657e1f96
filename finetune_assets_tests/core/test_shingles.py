"""Token shingles: the same tokens give the same hashes wherever they stand; case, spacing and the
variable parts of a template do not count; CJK text is shingled by characters."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from finetune_assets.core.shingles import SLICE_ROWS, normalized, shingle_hashes, split_whitespace


def _sets(texts: list) -> list[set]:
    hashes, offsets = shingle_hashes(pa.array(texts, pa.large_string()))
    assert len(offsets) == len(texts) + 1 and offsets[-1] == len(hashes)
    return [set(hashes[offsets[i] : offsets[i + 1]].tolist()) for i in range(len(texts))]


def test_case_and_white_space_do_not_change_the_shingles():
    plain, shouted, spaced = _sets(["disk full on node a", "DISK Full on NODE a", "  disk\tfull\n on node   a "])
    assert plain == shouted == spaced and len(plain) == 3


def test_a_text_has_one_shingle_per_window_of_three_tokens():
    [shingles] = _sets(["one two three four five six"])
    assert len(shingles) == 4


@pytest.mark.parametrize("text", ["", None, "one", "one two"])
def test_a_short_or_empty_text_still_has_one_shingle(text):
    [shingles] = _sets([text])
    assert len(shingles) == 1


def test_one_changed_token_changes_only_the_shingles_that_hold_it():
    base = " ".join(f"word{chr(97 + n % 26)}{chr(97 + n // 26)}" for n in range(40))
    changed = base.replace("wordua", "elsewhere")
    first, second = _sets([base, changed])
    assert len(first - second) == 3 and len(first & second) == 35


def test_different_texts_share_no_shingle_and_order_matters():
    first, second, reordered = _sets(["alpha beta gamma delta", "kafka lag on orders", "delta gamma beta alpha"])
    assert not first & second and not first & reordered


def test_texts_across_slices_hash_as_they_do_alone():
    texts = [f"pod payments-{n} restarted {n % 7} times after oom" for n in range(SLICE_ROWS + 50)]
    together = _sets(texts)
    assert together[-1] == _sets([texts[-1]])[0] and together[3] == _sets([texts[3]])[0]


def test_multibyte_tokens_hash_by_their_bytes():
    first, second = _sets(["décembre tâche échouée", "décembre tâche réussie"])
    assert len(first) == len(second) == 1 and not first & second
    assert shingle_hashes(pa.array(["節點 a b"]))[0].dtype == np.uint64


def test_cjk_written_without_spaces_is_shingled_by_characters():
    # One changed character of seventeen changes the three shingles that hold it, not the whole clause.
    first, second = _sets(["節點發生告警記憶體使用率升高請檢查", "節點發生告警記憶體使用率升低請檢查"])
    assert len(first) == len(second) == 15 and len(first & second) == 12


@pytest.mark.parametrize(
    ("variant", "original"),
    [
        ("pod payments-api-7f9c8d restarted 12 times", "pod payments-api-5b6d4e restarted 3 times"),
        ("at 2026-11-09T10:22:33Z from 10.0.3.7", "at 2025-01-02 08:00:01 from 192.168.100.254"),
        ("request 3f2a1c9e-1b2c-4d5e-8f90-123456789abc failed", "request a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d failed"),
        ("trace deadbeefcafe on web01.prod", "trace 0123abcd on web02.prod"),
        ("ｐａｓｓｗｏｒｄ rotated", "pass\u200bword rotated"),
    ],
)
def test_variable_parts_and_lookalikes_shingle_alike(variant, original):
    first, second = _sets([variant, original])
    assert first == second


def test_the_normalized_text_is_what_shingling_sees():
    [text] = normalized(pa.array(["Pod api-7f9c8d restarted 3 times; 節點告警"])).to_pylist()
    assert text.split() == ["pod", "api", "0", "restarted", "0", "times", "節", "點", "告", "警"]


@pytest.mark.parametrize(
    "text",
    [
        "from 10.0.3.7 at 2026-11-09 10:22:33Z: pod/api-7f9c8d, restarted 3 times",
        "節點worker-17發生告警 使用率 93% 請檢查",
        "ｐａｓｓｗｏｒｄ＝x\u3000next  pass\u200bword",
        "0 0 0 words 0 and 12 34 then",
        "",
        "   ",
        None,
    ],
)
def test_words_normalized_one_at_a_time_give_the_tokens_of_the_whole_text(text):
    from finetune_assets.core.shingles import _normalized_tokens, _token_hashes

    hashes, counts = _normalized_tokens(pa.array([text], pa.large_string()))
    expected = pc.list_flatten(pc.utf8_split_whitespace(normalized(pa.array([text], pa.large_string()))))
    expected = expected.filter(pc.greater(pc.binary_length(expected), 0)).cast(pa.large_string())
    assert counts.tolist() == [len(expected)] and hashes.tolist() == _token_hashes(expected).tolist()


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("tail", [" 0 ", "id 7 ", "x\n", "y \t", " "])
def test_the_last_text_is_split_at_its_trailing_white_space_wherever_its_bytes_end(kind, tail):
    # Arrow's own split reads past data that ends on a 64-byte boundary: whether " 0 " gave the
    # words "0" or "0 " depended on the memory there, so a week's signatures differed run to run.
    for filler in range(120, 200):
        words = split_whitespace(pa.array(["a" * filler, tail], kind)).to_pylist()
        assert [word for word in words[1] if word] == tail.split(), filler
