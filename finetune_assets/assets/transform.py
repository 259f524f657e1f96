"""Transform: the week's evidence, decisions and repairs joined into Alpaca training pairs."""

import json

import pyarrow as pa
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ..assembly import (
    PAIR_SCHEMA,
    PairStats,
    assemble_pairs,
    filter_batches,
    latest_of_each_duplicate,
    load_decisions,
    load_repairs,
)
from ..partitions import weekly_partitions
from ..previews import batch_preview
from ..resources import ExportStorage
from ..staging import read_batches, staged_path, write_batches
from .extract import BatchTap, coordinator_decisions, repair_actions, successful_evidence
from .sources import OWNERS

STATS_KEY = b"finetune_stats"


def read_pair_stats(schema: pa.Schema) -> dict[str, int]:
    return json.loads(schema.metadata[STATS_KEY])


@asset(
    partitions_def=weekly_partitions,
    group_name="transform",
    kinds={"python", "parquet"},
    owners=OWNERS,
    deps=[successful_evidence, coordinator_decisions, repair_actions],
)
def training_pairs(context: AssetExecutionContext, export_storage: ExportStorage) -> MaterializeResult:
    """One Alpaca pair (instruction, input, output, metadata) per successful evidence of the week,
    ordered by `collected_at` then evidence id. Evidence with neither a coordinator reasoning nor a
    repair is skipped and counted; exact duplicates (same input and output) keep only the latest."""
    root, week = export_storage.staging_root(), context.partition_key
    stats = PairStats()
    decisions = load_decisions(read_batches(staged_path(root, "coordinator_decisions", week)), stats)
    repairs = load_repairs(read_batches(staged_path(root, "repair_actions", week)), stats)

    # Duplicates are only known once the whole week has been seen: write every pair once, then
    # copy the survivors, so memory holds a 16-byte digest per pair rather than the pairs.
    digests = bytearray()
    all_pairs = staged_path(root, "training_pairs", f"{week}.all")
    evidence = read_batches(staged_path(root, "successful_evidence", week))
    try:
        write_batches(all_pairs, PAIR_SCHEMA, assemble_pairs(evidence, decisions, repairs, stats, digests))
        keep = latest_of_each_duplicate(bytes(digests))
        stats.exported = int(keep.sum())
        stats.duplicates = len(keep) - stats.exported
        schema = PAIR_SCHEMA.with_metadata({STATS_KEY: json.dumps(stats.as_dict())})
        tap = BatchTap(filter_batches(read_batches(all_pairs), keep))
        path = staged_path(root, "training_pairs", week)
        write_batches(path, schema, tap)
    finally:
        all_pairs.unlink(missing_ok=True)

    if stats.skipped_no_output:
        context.log.warning(
            f"{stats.skipped_no_output} evidence(s) had neither a coordinator reasoning nor a repair: skipped"
        )
    return MaterializeResult(
        metadata={
            "dagster/row_count": stats.exported,
            **{f"count_{name}": value for name, value in stats.as_dict().items()},
            "preview": MetadataValue.md(batch_preview(tap.first)),
            "staged_path": MetadataValue.path(str(path)),
        }
    )
