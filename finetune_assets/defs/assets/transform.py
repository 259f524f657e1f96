"""Transform: the week's evidence, decisions and repairs joined into Alpaca training pairs."""

import tempfile
from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ...core.digests import Digests
from ...core.join import assemble_pairs, decision_lookup, joined_batches, repair_lookup
from ...core.records import PairStats
from ...core.staged_tables import PAIRS
from ...dagster_defs.catalog import COLUMN_LINEAGE, COLUMN_SCHEMA, PAIR_COLUMN_LINEAGE, arrow_schema
from ...dagster_defs.failures import failing_as
from ...dagster_defs.partitions import WEEKS
from ...dagster_defs.previews import BatchTap, batch_preview
from ...dagster_defs.resources import DatasetPolicy, ExportStorage
from ...dagster_defs.run_files import release, run_key
from ...io.background import WriteBehind, prefetched
from ...io.spill import OrdinalBuckets
from ...io.staging import read_batches, read_schema, write_batches
from ...io.store import Store
from .sources import OWNERS

TRANSFORM_GROUP = "transform"
WITHHELD_SHOWN = 10
# The week's counts travel inside the staged file, so they can never describe other rows.
STATS_KEY = b"finetune_stats"


def read_pair_stats(store: Store, path: str) -> PairStats:
    return PairStats.from_json(read_schema(store, path).metadata[STATS_KEY])


@asset(
    partitions_def=WEEKS,
    group_name=TRANSFORM_GROUP,
    kinds={"python", "parquet"},
    owners=OWNERS,
    deps=["successful_evidence", "coordinator_decisions", "repair_actions"],
    metadata={COLUMN_SCHEMA: arrow_schema(PAIRS)},
)
def training_pairs(
    context: AssetExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
) -> MaterializeResult:
    """One Alpaca pair (instruction, input, output, metadata) per successful evidence of the week,
    ordered by `collected_at` then evidence id, with passwords, tokens, keys and e-mail addresses
    replaced by `[REDACTED:<type>]` in input and output. Evidence with neither a coordinator reasoning
    nor a repair is skipped and counted; exact duplicates (same input and output) keep only the latest."""
    metadata = _pairs_of_week(context, export_storage, dataset_policy, context.partition_key)
    return MaterializeResult(metadata={**metadata, COLUMN_LINEAGE: PAIR_COLUMN_LINEAGE})


def _pairs_of_week(
    context: AssetExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy, week: str
) -> dict:
    staging = export_storage.run_staging(week, run_key(context.run))
    store = staging.store
    stats, digests, redactor = PairStats(), Digests.empty(), dataset_policy.redactor()
    with failing_as(context, f"reading the staged extracts of week {week}"):
        extracts = ("successful_evidence", "coordinator_decisions", "repair_actions")
        inputs = {name: staging.require(name) for name in extracts}
    decision_columns = ["incident_id", "reasoning", "output_json"]
    repair_columns = ["incident_id", "action", "success", "executed_steps", "playbook_name"]
    decisions = decision_lookup(read_batches(store, inputs["coordinator_decisions"], decision_columns))
    repairs = repair_lookup(read_batches(store, inputs["repair_actions"], repair_columns))
    evidence = read_batches(store, inputs["successful_evidence"])
    path = staging.path("training_pairs")
    # The spill files live and die within this step, so they stay on the local disk.
    with tempfile.TemporaryDirectory(prefix=f"finetune-{week}-spill-") as spill:
        with failing_as(context, f"building training pairs for week {week} in {store.url(path)}"):
            buckets = OrdinalBuckets(Path(spill))
            # Spilling (Arrow, which releases the GIL) runs on a second core beside the assembly.
            with WriteBehind() as behind:
                # The join and the column-wide regex passes of the next batch run on another thread
                # while this one is redacted in Python.
                joined = prefetched(lambda: joined_batches(evidence, decisions, repairs, redactor))
                for batch in assemble_pairs(joined, stats, digests, redactor):
                    behind.submit(buckets.add, batch)
            # Duplicates are only known once the whole week has been seen; then the survivors are
            # read back in export order.
            keep = digests.keep_mask()
            stats.exported = int(keep.sum())
            stats.duplicates = stats.selected - stats.skipped_no_output - stats.quarantined - stats.exported
            schema = PAIRS.with_metadata({STATS_KEY: stats.to_json()})
            # The next bucket is read and sorted while this one is written.
            tap = BatchTap(prefetched(lambda: buckets.in_order(keep)))
            write_batches(store, path, schema, tap)
    release(context, staging, "training_pairs")
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
    redactions, withheld = counts.pop("redactions"), counts.pop("withheld")
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
    return {
        "dagster/row_count": stats.exported,
        **{f"count_{name}": value for name, value in counts.items()},
        "count_withheld": len(withheld),
        "redacted_total": sum(redactions.values()),
        **{f"redacted_{kind}": count for kind, count in redactions.items()},
        "preview": MetadataValue.md(batch_preview(tap.first)),
    }
