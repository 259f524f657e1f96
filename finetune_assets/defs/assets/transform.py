"""Transform: the week's evidence, decisions and repairs joined into Alpaca training pairs."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from dagster import AssetExecutionContext, MetadataValue, asset

from ...core.digests import Digests
from ...core.join import assemble_pairs, decision_lookup, joined_batches, repair_lookup
from ...core.records import PairStats
from ...core.staged_tables import PAIRS
from ...dagster_defs.catalog import COLUMN_LINEAGE, COLUMN_SCHEMA, PAIR_COLUMN_LINEAGE, arrow_schema
from ...dagster_defs.failures import failing_as
from ...dagster_defs.partitions import WEEKS
from ...dagster_defs.previews import BatchTap, batch_preview
from ...dagster_defs.resources import DatasetPolicy
from ...dagster_defs.staged_io import STAGED_IO
from ...io.background import WriteBehind, prefetched
from ...io.spill import OrdinalBuckets
from ...io.staging import StagedRows, StagedTable
from .sources import OWNERS

TRANSFORM_GROUP = "transform"
WITHHELD_SHOWN = 10
# The week's counts travel inside the staged file, so they can never describe other rows.
STATS_KEY = b"finetune_stats"


def read_pair_stats(pairs: StagedTable) -> PairStats:
    return PairStats.from_json(pairs.schema().metadata[STATS_KEY])


@asset(
    partitions_def=WEEKS,
    group_name=TRANSFORM_GROUP,
    kinds={"python", "parquet"},
    owners=OWNERS,
    io_manager_key=STAGED_IO,
    metadata={COLUMN_SCHEMA: arrow_schema(PAIRS)},
)
def training_pairs(
    context: AssetExecutionContext,
    successful_evidence: StagedTable,
    coordinator_decisions: StagedTable,
    repair_actions: StagedTable,
    dataset_policy: DatasetPolicy,
) -> StagedRows:
    """One Alpaca pair (instruction, input, output, metadata) per successful evidence of the week,
    ordered by `collected_at` then evidence id, with passwords, tokens, keys and e-mail addresses
    replaced by `[REDACTED:<type>]` in input and output. Evidence with neither a coordinator reasoning
    nor a repair is skipped and counted; exact duplicates (same input and output) keep only the latest."""
    week = context.partition_key
    stats, digests, redactor = PairStats(), Digests.empty(), dataset_policy.redactor()
    decision_columns = ["incident_id", "reasoning", "output_json"]
    repair_columns = ["incident_id", "action", "success", "executed_steps", "playbook_name"]
    # The spill files live and die within this step, so they stay on the local disk.
    spill = tempfile.TemporaryDirectory(prefix=f"finetune-{week}-spill-")
    try:
        with failing_as(context, f"building training pairs for week {week}"):
            decisions = decision_lookup(coordinator_decisions.batches(decision_columns))
            repairs = repair_lookup(repair_actions.batches(repair_columns))
            evidence = successful_evidence.batches()
            buckets = OrdinalBuckets(Path(spill.name))
            # Spilling (Arrow, which releases the GIL) runs on a second core beside the assembly.
            with WriteBehind() as behind:
                # The join and the column-wide regex passes of the next batch run on another thread
                # while this one is redacted in Python.
                joined = prefetched(lambda: joined_batches(evidence, decisions, repairs, redactor))
                for batch in assemble_pairs(joined, stats, digests, redactor):
                    behind.submit(buckets.add, batch)
    except BaseException:
        spill.cleanup()
        raise
    # Duplicates are only known once the whole week has been seen; then the survivors are read back
    # in export order, as the IO manager writes them.
    keep = digests.keep_mask()
    stats.exported = int(keep.sum())
    stats.duplicates = stats.selected - stats.skipped_no_output - stats.quarantined - stats.exported
    _log_week(context, week, stats)

    def in_order() -> Iterator[pa.RecordBatch]:
        try:
            # The next bucket is read and sorted while this one is written.
            yield from prefetched(lambda: buckets.in_order(keep))
        finally:
            spill.cleanup()

    tap = BatchTap(in_order())

    def metadata() -> dict:
        return {**_week_metadata(stats, tap.first), COLUMN_LINEAGE: PAIR_COLUMN_LINEAGE}

    schema = PAIRS.with_metadata({STATS_KEY: stats.to_json()})
    return StagedRows(schema, tap, metadata, f"writing the training pairs of week {week}")


def _log_week(context: AssetExecutionContext, week: str, stats: PairStats) -> None:
    context.log.info(
        f"week {week}: {stats.exported} training pair(s) from {stats.selected} evidence(s); "
        f"{stats.skipped_no_output} skipped without output, {stats.duplicates} duplicate(s)"
    )
    if stats.skipped_no_output:
        context.log.warning(
            f"week {week}: {stats.skipped_no_output} evidence(s) had neither a coordinator reasoning "
            "nor a repair: skipped"
        )
    counts = stats.as_dict()
    redactions, withheld = counts["redactions"], counts["withheld"]
    if redactions:
        context.log.info(
            f"week {week}: redacted {sum(redactions.values())} secret(s): "
            + ", ".join(f"{k} {v}" for k, v in redactions.items())
        )
    if withheld:
        context.log.warning(
            f"week {week}: {len(withheld)} pair(s) withheld: the scanner still found something after redaction "
            f"(evidence {', '.join(item['evidence_id'] for item in withheld[:WITHHELD_SHOWN])}"
            f"{', …' if len(withheld) > WITHHELD_SHOWN else ''}); see no_secrets_survive"
        )


def _week_metadata(stats: PairStats, first: pa.RecordBatch | None) -> dict:
    counts = stats.as_dict()
    redactions, withheld = counts.pop("redactions"), counts.pop("withheld")
    return {
        **{f"count_{name}": value for name, value in counts.items()},
        "count_withheld": len(withheld),
        "redacted_total": sum(redactions.values()),
        **{f"redacted_{kind}": count for kind, count in redactions.items()},
        "preview": MetadataValue.md(batch_preview(first)),
    }
