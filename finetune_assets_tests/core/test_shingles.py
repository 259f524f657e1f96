"""Token shingles: the same tokens give the same hashes wherever they stand; case and spacing do not count."""

import numpy as np
import pyarrow as pa
import pytest

from finetune_assets.core.shingles import SLICE_ROWS, shingle_hashes


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
    base = " ".join(f"word{n}" for n in range(40))
    changed = base.replace("word20", "host-7")
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
    first, second = _sets(["節點 worker-3 記憶體 使用率 升高", "節點 worker-3 記憶體 使用率 下降"])
    assert len(first & second) == 2
    assert shingle_hashes(pa.array(["節點 a b"]))[0].dtype == np.uint64
