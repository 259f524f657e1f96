"""Band keys: near duplicates (a template with another host) share one; unrelated texts do not."""

import pyarrow as pa
import pytest

from finetune_assets.core.near_duplicates import Banding, band_keys
from finetune_assets.core.shingles import shingle_hashes

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


def test_a_template_with_other_hosts_shares_a_band_and_another_text_does_not():
    texts = [TEMPLATE.format(host=f"worker-{n}") for n in (3, 17, 254)] + [OTHER]
    keys = band_keys(pa.array(texts, pa.large_string()), Banding.for_threshold(0.85))
    assert keys.shape == (4, 8)
    assert _shares(keys, 0, 1) and _shares(keys, 1, 2) and _shares(keys, 0, 2)
    assert not any(_shares(keys, 3, other) for other in range(3))


def test_the_keys_are_the_same_in_every_run_and_every_batch():
    texts = pa.array([TEMPLATE.format(host="a"), OTHER], pa.large_string())
    together = band_keys(texts, Banding.for_threshold(0.85))
    alone = band_keys(texts.slice(1), Banding.for_threshold(0.85))
    assert (together[1] == alone[0]).all()


@pytest.mark.parametrize(("threshold", "shape"), [(0.85, (8, 16)), (0.5, None), (0.95, None)])
def test_the_banding_follows_the_threshold_as_datasketch_chooses_it(threshold, shape):
    banding = Banding.for_threshold(threshold)
    assert banding.bands * banding.rows <= banding.num_perm
    if shape:
        assert (banding.bands, banding.rows) == shape
    # A higher threshold asks more rows of a band to agree.
    assert (banding.rows >= Banding.for_threshold(0.5).rows) == (threshold >= 0.5)


def test_a_pair_well_below_the_threshold_is_not_linked():
    half = " ".join(TEMPLATE.split()[: len(TEMPLATE.split()) // 2])
    other_half = " ".join(OTHER.split()[: len(OTHER.split()) // 2])
    texts = pa.array([TEMPLATE.format(host="x"), half + " " + other_half], pa.large_string())
    assert not _shares(band_keys(texts, Banding.for_threshold(0.85)), 0, 1)


def test_the_templates_are_as_similar_as_the_threshold_is_meant_to_catch():
    texts = [TEMPLATE.format(host="worker-3"), TEMPLATE.format(host="worker-17")]
    hashes, offsets = shingle_hashes(pa.array(texts))
    first, second = (set(hashes[offsets[row] : offsets[row + 1]].tolist()) for row in range(2))
    assert len(first & second) / len(first | second) > 0.9
