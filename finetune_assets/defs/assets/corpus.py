"""The training corpus: every registered week in one versioned, deduplicated, leak-free dataset, and
the sensor that rebuilds it once a week's export is registered."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    asset,
    asset_sensor,
    define_asset_job,
)

from ...core.corpus_card import CorpusRules
from ...dagster_defs.catalog import COLUMN_SCHEMA, JSONL_COLUMNS
from ...dagster_defs.corpus_build import CorpusBuild, build_corpus
from ...dagster_defs.failures import failing_as
from ...dagster_defs.previews import preview_markdown
from ...dagster_defs.resources import AiopsDatabase, CorpusPolicy, DatasetPolicy, ExportStorage
from .sources import OWNERS

CORPUS_GROUP = "corpus"
CORPUS_JOB = "training_corpus_job"
CORPUS_POOL = "training_corpus"


@asset(
    group_name=CORPUS_GROUP,
    owners=OWNERS,
    kinds={"jsonl", "file"},
    # Off the registry table, not below export_registry: the weekly selection `successful_evidence*`
    # must stay partitioned through and through.
    deps=["finetune_exports"],
    pool=CORPUS_POOL,
    metadata={COLUMN_SCHEMA: JSONL_COLUMNS},
)
def training_corpus(
    context: AssetExecutionContext,
    aiops_db: AiopsDatabase,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
    corpus_policy: CorpusPolicy,
) -> MaterializeResult:
    """Every registered weekly export (the files whose checks passed, as `finetune_exports` lists them),
    or the last `FINETUNE_CORPUS_WEEKS`, as one dataset: exact duplicates across weeks removed (the
    earliest kept), near duplicates (exact Jaccard on the candidates MinHash LSH proposes) capped per
    cluster, pairs linked by duplicates wholly in train or in validation, and every pair on the side it
    had in the version before. Each build writes a new version folder
    `FINETUNE_EXPORT_PATH/corpus/<version>/`, named by its input files and policy, with its
    train/validation files per format, a dataset card and dataset_info.json, and registers its
    files in `finetune_exports`. When nothing changed, no version is written."""
    rules = CorpusRules(
        near_duplicate_threshold=corpus_policy.near_duplicate_threshold,
        cluster_keep=corpus_policy.cluster_keep,
        formats=tuple(dataset_policy.formats),
        weeks=corpus_policy.weeks,
    )
    with failing_as(context, "building the training corpus"):
        build = build_corpus(
            aiops_db.database(),
            export_storage.exports(),
            export_storage.staging(),
            rules,
            context.run.run_id,
            context.log.info,
        )
    elsewhere = {"left_out_elsewhere": len(build.elsewhere)}
    if build.version is None:
        context.log.info("no weekly export is registered yet: no corpus version written")
        return MaterializeResult(
            metadata={"dagster/row_count": 0, "note": "no registered weekly export yet", **elsewhere}
        )
    if not build.created:
        context.log.info(f"corpus {build.version} already covers the registered weeks under this policy")
        return MaterializeResult(
            metadata={
                "version": build.version,
                "path": MetadataValue.path(build.folder_url),
                "weeks": len(build.inputs),
                "note": "up to date: no registered week or policy changed since this version",
                **elsewhere,
            }
        )
    context.log.info(
        f"corpus {build.version}: {sum(c.kept for c in build.counts)} of {sum(c.pairs_in for c in build.counts)} "
        f"pairs from {len(build.inputs)} week(s) written to {build.folder_url}"
    )
    return MaterializeResult(metadata=_metadata(build))


def _metadata(build: CorpusBuild) -> dict:
    total = {
        name: sum(getattr(count, name) for count in build.counts)
        for name in ("pairs_in", "exact_duplicates", "near_duplicates", "withheld", "kept", "train", "validation")
    }
    weeks = [
        f"| {c.week} | {c.pairs_in} | {c.exact_duplicates} | {c.near_duplicates} | {c.withheld} | {c.kept} "
        f"| {c.train} | {c.validation} |"
        for c in build.counts
    ]
    shards = [
        f"| {s.name} | {s.file.records} | {s.file.sha256[:12]}… | {'written' if s.written_now else 'linked'} |"
        for s in build.shards
    ]
    return {
        "dagster/row_count": total["kept"],
        "version": build.version,
        "path": MetadataValue.path(build.folder_url),
        "predecessor": build.predecessor or "none",
        "weeks": len(build.inputs),
        **total,
        "clusters": build.clusters,
        "weeks_signed_now": len(build.signed_now),
        # Fewer than all weeks: the plan of the version before was extended by the weeks added.
        "weeks_planned_now": build.planned_now,
        "audit_row_ids": MetadataValue.json(build.audit_row_ids),
        # Weeks exported under another FINETUNE_EXPORT_PATH against the same database: not read.
        "left_out_elsewhere": len(build.elsewhere),
        "per_week": MetadataValue.md(
            "\n".join(
                ["| week | in | exact dup. | near dup. | withheld | kept | train | validation |", "|---" * 8 + "|"]
                + weeks
            )
        ),
        "shards_written": sum(shard.written_now for shard in build.shards),
        "shards_linked": sum(not shard.written_now for shard in build.shards),
        "files": MetadataValue.md(
            "\n".join(["| shard | lines | sha256 | in this version |", "|---|---|---|---|", *shards])
        ),
        "preview": MetadataValue.md(preview_markdown(build.preview)),
    }


training_corpus_job = define_asset_job(
    CORPUS_JOB,
    selection=AssetSelection.assets("training_corpus"),
    description="Rebuild the training corpus from every registered weekly export.",
)


@asset_sensor(
    asset_key=AssetKey("export_registry"),
    name="training_corpus_after_export",
    job=training_corpus_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Rebuilds training_corpus after a week's export is registered.",
)
def training_corpus_after_export(context: SensorEvaluationContext, asset_event):
    """A registered export (any week) starts a corpus build; several registered close together start one."""
    # One build per registration seen; the event's run and time name it for the sensor's history.
    return RunRequest(run_key=f"export_registry-{asset_event.run_id}-{asset_event.timestamp}")
