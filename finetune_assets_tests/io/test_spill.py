"""The spill files: pairs back in export order, one bucket in memory at a time."""

import pyarrow as pa

from finetune_assets.core.digests import Digests
from finetune_assets.core.join import assemble_pairs, decision_lookup, joined_batches, repair_lookup
from finetune_assets.core.records import PairStats
from finetune_assets.core.redaction import Redactor
from finetune_assets.io.spill import OrdinalBuckets

from ..batches import evidence_batch, repairs_batch


def test_buckets_return_pairs_in_ordinal_order_with_only_the_kept(tmp_path):
    stats, digests = PairStats(), Digests.empty()
    rows = [(ordinal, f"e{ordinal}", f"INC-{ordinal % 7}", f"s{ordinal}") for ordinal in range(1, 40)]
    rows.sort(key=lambda row: row[2])
    incidents = sorted({row[2] for row in rows})
    joined = joined_batches(
        [evidence_batch(rows)], decision_lookup([]), repair_lookup([repairs_batch(incidents)]), Redactor()
    )
    pairs = assemble_pairs(joined, stats, digests, Redactor())
    buckets = OrdinalBuckets(tmp_path / "spill", bucket_rows=8)
    for batch in pairs:
        buckets.add(batch)
    keep = digests.keep_mask()
    keep[10] = False
    ordered = pa.Table.from_batches(list(buckets.in_order(keep)))
    expected = [f"e{n}" for n in range(1, 40) if n != 10]
    assert ordered.column("evidence_id").to_pylist() == expected
    assert "ordinal" not in ordered.column_names
    assert list((tmp_path / "spill").iterdir()) == []
