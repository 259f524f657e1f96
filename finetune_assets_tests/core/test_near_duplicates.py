"""Near-duplicate signatures: band keys propose (a template with another host shares them, an unrelated
text does not), exact Jaccard on the shingle sets decides."""

import itertools

import numpy as np
import pyarrow as pa
import pytest

from finetune_assets.core import near_duplicates
from finetune_assets.core.near_duplicates import (
    NUM_PERM,
    RECALL_AT_THRESHOLD,
    Banding,
    near_duplicate_signatures,
)
from finetune_assets.core.set_similarity import jaccard

TEMPLATE = (
    "[DiskPressure] node {host} reports disk usage of 93 percent on /var/lib/docker; the kubelet began evicting "
    "pods in the payments namespace because image garbage collection could not free enough space before the "
    "hard eviction threshold; the largest consumers are container logs and dangling images left by the nightly "
    "build job, and the same node ran out of inodes twice last month. Rotating the logs and pruning the images "
    "freed 41 GB and the pods were rescheduled without data loss."
)
OTHER = (
    "[KafkaConsumerLag] consumer group orders-writer is 2.3 million messages behind on topic orders.v2; the lag "
    "grew after a rebalance storm caused by a liveness probe that restarts consumers under load. Raising the "
    "probe timeout and the max poll interval let the group catch up within forty minutes."
)


def _shares(keys, a: int, b: int) -> bool:
    return bool((keys[a] == keys[b]).any())


def _sets(texts):
    signatures = near_duplicate_signatures(pa.array(texts, pa.large_string()), Banding.for_threshold(0.85))
    return signatures, [set(signatures.sets[a:b].tolist()) for a, b in itertools.pairwise(signatures.offsets)]


def test_a_template_with_other_hosts_counts_and_times_is_one_shingle_set():
    variants = [
        TEMPLATE.format(host=f"worker-{n}").replace("93 percent", f"{n} percent") + f" at 2026-11-0{n % 9}T10:{n}Z"
        for n in (3, 17, 54)
    ]
    texts = [*variants, OTHER]
    signatures, sets = _sets(texts)
    assert signatures.bands.shape == (4, Banding.for_threshold(0.85).bands)
    assert sets[0] == sets[1] == sets[2] != sets[3]
    assert (signatures.bands[0] == signatures.bands[2]).all()
    assert not any(_shares(signatures.bands, 3, other) for other in range(3))


def test_the_keys_are_the_same_in_every_run_and_every_batch():
    texts = pa.array([TEMPLATE.format(host="a"), OTHER], pa.large_string())
    together = near_duplicate_signatures(texts, Banding.for_threshold(0.85)).bands
    alone = near_duplicate_signatures(texts.slice(1), Banding.for_threshold(0.85)).bands
    assert (together[1] == alone[0]).all()


def test_signing_in_slices_gives_each_text_its_own_keys_and_set(monkeypatch):
    # Shingled once for the whole batch, signed a slice at a time: each slice must take its own texts'
    # shingles, whatever the slice's size.
    texts = pa.array([" ".join((TEMPLATE if n % 2 else OTHER).split()[n:]) for n in range(7)], pa.large_string())
    banding = Banding.for_threshold(0.85)
    whole = near_duplicate_signatures(texts, banding)
    monkeypatch.setattr(near_duplicates, "SIGN_ROWS", 3)
    sliced = near_duplicate_signatures(texts, banding)
    one_by_one = [near_duplicate_signatures(texts.slice(row, 1), banding) for row in range(len(texts))]
    assert (sliced.bands == whole.bands).all()
    assert (sliced.sets == whole.sets).all() and (sliced.offsets == whole.offsets).all()
    for row, alone in enumerate(one_by_one):
        assert (alone.bands[0] == whole.bands[row]).all()
        assert (alone.sets == whole.sets[whole.offsets[row] : whole.offsets[row + 1]]).all()
    assert len({tuple(keys) for keys in whole.bands}) == len(texts)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.9, 0.95])
def test_the_bands_are_the_widest_and_fewest_that_keep_recall_at_the_threshold(threshold):
    banding = Banding.for_threshold(threshold)
    assert banding.num_perm == banding.bands * banding.rows <= NUM_PERM

    def recall(bands, rows):
        return 1 - (1 - threshold**rows) ** bands

    assert recall(banding.bands, banding.rows) >= RECALL_AT_THRESHOLD
    wider = banding.rows + 1
    assert recall(NUM_PERM // wider, wider) < RECALL_AT_THRESHOLD
    assert recall(banding.bands - 1, banding.rows) < RECALL_AT_THRESHOLD
    assert (Banding.for_threshold(0.85).bands, Banding.for_threshold(0.85).rows) == (20, 5)


def test_a_pair_well_below_the_threshold_is_not_proposed():
    quarter = " ".join(TEMPLATE.split()[: len(TEMPLATE.split()) // 4])
    texts = [TEMPLATE.format(host="x"), quarter + " " + OTHER]
    signatures, sets = _sets(texts)
    assert len(sets[0] & sets[1]) / len(sets[0] | sets[1]) < 0.2
    assert not _shares(signatures.bands, 0, 1)


def test_jaccard_is_exact_on_the_sets():
    words = TEMPLATE.split()
    rng = np.random.default_rng(3)
    texts = [" ".join(w if rng.random() > rate else "edit" + chr(97 + i % 26) for i, w in enumerate(words)) for rate in
             np.linspace(0, 0.5, 12)] + ["", "one", OTHER]  # fmt: skip
    signatures, sets = _sets(texts)
    first, second = (np.array(rows) for rows in zip(*itertools.combinations(range(len(texts)), 2), strict=True))
    expected = [len(sets[a] & sets[b]) / len(sets[a] | sets[b]) for a, b in zip(first, second, strict=True)]
    assert jaccard(signatures.sets, signatures.offsets, first, second).tolist() == pytest.approx(expected)
    # The cases span the range: unrelated, distant, borderline and close.
    assert min(expected) == 0 and any(0 < e < 0.5 for e in expected) and any(0.5 < e < 1 for e in expected)
