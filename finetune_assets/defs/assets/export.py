"""Export: the week's JSONL file and trainer files, then their audit rows in ``finetune_exports``."""

from dataclasses import replace
from datetime import datetime, timezone

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from ...core.dataset_card import ExportSummary
from ...core.records import CheckVerdict, ExportManifest, TrainerFile, WrittenFile
from ...core.weeks import week_window
from ...dagster_defs.catalog import COLUMN_LINEAGE, COLUMN_SCHEMA, JSONL_COLUMN_LINEAGE, JSONL_COLUMNS, table_schema
from ...dagster_defs.failures import failing_as
from ...dagster_defs.leftovers import sweep_unpublished
from ...dagster_defs.materializations import MANIFEST, export_manifest
from ...dagster_defs.partitions import WEEKS
from ...dagster_defs.previews import preview_markdown
from ...dagster_defs.resources import AiopsDatabase, DatasetPolicy, ExportStorage
from ...db.registry import audit_rows_of, record_exports
from ...db.schema import finetune_exports
from ...io.export_writer import ExportPlan, trainer_folder, write_export
from ...io.publish import ChangedBeforePublishing, publications, publish, published_manifest, remove_pending
from ...io.staging import StagedTable
from .sources import OWNERS
from .transform import read_pair_stats

EXPORT_GROUP = "export"
WEEKLY_EXPORT = {"partitions_def": WEEKS, "group_name": EXPORT_GROUP, "owners": OWNERS}


def export_name(week: str, run_id: str) -> str:
    # A name of its own per materialization: an earlier week's export is never replaced, and names
    # sort by the time they were written.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"finetune-{week}-{stamp}-{run_id[:8]}"


def _export_week(
    context: AssetExecutionContext,
    pairs: StagedTable,
    export_storage: ExportStorage,
    policy: DatasetPolicy,
    week: str,
) -> dict:
    start, end = week_window(week)
    exports, records, pending = export_storage.exports(), export_storage.records(), export_storage.pending()
    with failing_as(context, f"reading the staged training pairs of week {week} at {pairs.url}"):
        stats = read_pair_stats(pairs)
    name = export_name(week, context.run.run_id)
    manifest = ExportManifest(
        export=name,
        partition_key=week,
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        run_id=context.run.run_id,
        stats=stats,
        split_key=policy.split_key,
        validation_fraction=policy.validation_fraction,
        formats=tuple(policy.formats),
        source_ids_path=records.ids_path(week, name),
    )
    preview = []
    if stats.exported:
        # Written where trainers do not look; export_registry publishes it once its blocking checks pass.
        snapshot_path = pending.path(week, f"{name}.jsonl")
        # An export path that cannot take the files fails here, naming it, not after the checks.
        with failing_as(context, f"preparing the export folder {exports.url(exports.path(week))}"):
            exports.make_folder(exports.path(week))

        def describe(snapshot: WrittenFile, files: list[TrainerFile]) -> ExportSummary:
            return ExportSummary(
                week, manifest.window_start, manifest.window_end, snapshot.name, snapshot.records, snapshot.sha256,
                stats.as_dict(), policy.split_key, policy.validation_fraction, policy.formats, files,
            )  # fmt: skip

        plan = ExportPlan(policy.formats, policy.split_key, policy.validation_fraction)
        action = f"writing the export of week {week} to {pending.url(snapshot_path)}"
        with failing_as(context, action):
            result = write_export(
                pairs.store, pairs.path, manifest.source_ids_path, pending, snapshot_path, plan, describe
            )
        manifest = replace(manifest, snapshot=result.snapshot, trainer_files=tuple(result.trainer_files))
        preview = result.preview
        context.log.info(
            f"week {week}: wrote {result.snapshot.records} pairs ({result.snapshot.size_bytes} bytes) to "
            f"{result.snapshot.url}, and {len(result.trainer_files)} trainer file(s) to "
            f"{pending.url(trainer_folder(snapshot_path))}, to be checked there; export_registry publishes "
            f"them to {exports.url(exports.path(week))} once the blocking checks pass"
        )
    else:
        context.log.info(f"week {week} has no training pairs: no file written")
    with failing_as(context, f"recording the export of week {week}"):
        # The checks and the registry read the manifest from this materialization. The copy in the
        # staging store is for the sweep: an export whose step failed after writing is not recorded.
        records.write_manifest(manifest)
        swept = sweep_unpublished(context, exports, records, pending, name)
    if swept:
        context.log.info(f"week {week}: removed what runs that are over left behind: {', '.join(swept)}")

    snapshot = manifest.snapshot
    metadata = {
        "dagster/row_count": snapshot.records if snapshot else 0,
        "export": name,
        MANIFEST: MetadataValue.json(manifest.as_dict()),
        "size_bytes": snapshot.size_bytes if snapshot else 0,
        "window_start": manifest.window_start,
        "window_end": manifest.window_end,
        "preview": MetadataValue.md(preview_markdown(preview)),
    }
    if snapshot:
        metadata["path"] = MetadataValue.path(snapshot.url)
        metadata["published_to"] = MetadataValue.path(published_manifest(manifest, pending, exports).snapshot.url)
        metadata["sha256"] = snapshot.sha256
        metadata["trainer_files"] = MetadataValue.md(_trainer_files_table(manifest.trainer_files))
    else:
        metadata["note"] = "no training pairs this week: no file written"
    return metadata


def _trainer_files_table(files: tuple[TrainerFile, ...]) -> str:
    rows = [f"| {file.name} | {file.records} | {file.sha256[:12]}… |" for file in files]
    return "\n".join(["| file | lines | sha256 |", "|---|---|---|", *rows])


@asset(**WEEKLY_EXPORT, kinds={"jsonl", "file"}, metadata={COLUMN_SCHEMA: JSONL_COLUMNS})
def jsonl_export(
    context: AssetExecutionContext,
    training_pairs: StagedTable,
    export_storage: ExportStorage,
    dataset_policy: DatasetPolicy,
) -> MaterializeResult:
    """The week's training pairs as UTF-8 JSONL (instruction, input, output, metadata), and next to it a
    folder of the same name with each trainer format split into train and validation, a dataset card
    and LLaMA-Factory's dataset_info.json: written in the owner-only staging store, where the blocking
    checks read them and trainers do not look; export_registry publishes them into
    `FINETUNE_EXPORT_PATH/<week>/` once the checks pass. Each materialization writes new files, which
    appear only when complete. A week without pairs writes nothing."""
    metadata = _export_week(context, training_pairs, export_storage, dataset_policy, context.partition_key)
    return MaterializeResult(metadata={**metadata, COLUMN_LINEAGE: JSONL_COLUMN_LINEAGE})


def _register_week(context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage, week: str):
    exports, records, pending = export_storage.exports(), export_storage.records(), export_storage.pending()
    with failing_as(context, f"reading the export manifest of week {week}"):
        manifest = export_manifest(context)
    if manifest is None:
        raise Failure(
            f"week {week} has no export to register: materialize jsonl_export first "
            "(select successful_evidence* for the whole lineage)",
            allow_retries=False,
        )
    export = manifest.export
    if manifest.snapshot is None:
        verdict = records.read_verdict(week, export)
        if verdict is not None and (failed := verdict.failed_blocking):
            # Every pair withheld, say: nothing to register, but the week is blocked, and says so.
            raise Failure(
                f"export {export} of week {week} failed its blocking check(s) {', '.join(failed)}: nothing "
                "registered. Export the week again once the data or the policy is fixed.",
                allow_retries=False,
            )
        return {
            "dagster/row_count": 0,
            "export": export,
            MANIFEST: MetadataValue.json(manifest.as_dict()),
            "audit_row_count": 0,
            "note": "no training pairs this week: no audit row written",
        }
    registration_gate(manifest, records.read_verdict(week, export))
    published = published_manifest(manifest, pending, exports)
    rows = audit_rows_of(published, records.store, context.run.run_id, aiops_db.source)
    # The files and their audit rows together or not at all: rows that cannot be inserted take the files
    # published for them out of the tree again.
    action = f"publishing export {export} of week {week} to {exports.url(exports.path(week))}"
    with failing_as(context, action):
        try:
            published_now = publish(pending, exports, publications(manifest, pending, exports))
        except ChangedBeforePublishing as error:
            raise Failure(f"{error} or registered", allow_retries=False) from error
    try:
        with failing_as(context, f"registering export {export} of week {week}"):
            registered = record_exports(aiops_db.database(), rows)
    except BaseException:
        for path in published_now:
            exports.remove(path)
        raise
    with failing_as(context, f"tidying the pending copy of export {export} of week {week}"):
        records.remove_ids(week, export)
        remove_pending(pending, manifest)
    snapshot, row_id, inserted = registered[0]
    context.log.info(
        f"week {week}: registered {len(registered)} audit row(s) in finetune_exports: "
        + ", ".join(f"{row.export_type} (id {row_id})" for row, row_id, _ in registered)
        + f"; published {published.snapshot.url} and its {len(published.trainer_files)} trainer file(s)"
    )
    return {
        "dagster/row_count": snapshot.record_count,
        "export": export,
        MANIFEST: MetadataValue.json(manifest.as_dict()),
        "audit_row_count": len(registered),
        "audit_row_id": row_id,
        "inserted": inserted,
        "export_type": snapshot.export_type,
        "path": MetadataValue.path(snapshot.file_path),
        "sha256": snapshot.checksum_sha256,
        "source": aiops_db.source,
        "audit_rows": MetadataValue.md(
            "\n".join(
                ["| id | export_type | lines | inserted |", "|---|---|---|---|"]
                + [f"| {i} | {row.export_type} | {row.record_count} | {new} |" for row, i, new in registered]
            )
        ),
    }


def registration_gate(manifest: ExportManifest, verdict: CheckVerdict | None) -> None:
    """Only an export whose blocking checks passed on exactly these bytes is published and registered;
    otherwise the step fails, saying why, and nothing is published or registered. (Publishing then
    compares each file's bytes with the sha256 its checks read.)"""
    export, week = manifest.export, manifest.partition_key
    if verdict is None:
        raise Failure(
            f"export {export} of week {week} has not been checked: its blocking checks must pass before it is "
            "registered (materialize jsonl_export with its checks)",
            allow_retries=False,
        )
    if failed := verdict.failed_blocking:
        raise Failure(
            f"export {export} of week {week} failed its blocking check(s) {', '.join(failed)}: nothing registered. "
            "Export the week again once the data or the policy is fixed.",
            allow_retries=False,
        )
    for file in manifest.files:
        if verdict.sha256.get(file.name) != file.sha256:
            raise Failure(
                f"{file.url}: the checks read other bytes (sha256 {verdict.sha256.get(file.name)}) than were "
                f"written ({file.sha256}): nothing registered",
                allow_retries=False,
            )


# finetune_exports is drawn upstream: export_registry reads it (is this file registered yet?) before
# appending, and downstream it would fall inside `successful_evidence*`.
@asset(
    **WEEKLY_EXPORT,
    kinds={"postgres", "table"},
    deps=["jsonl_export", "finetune_exports"],
    metadata={COLUMN_SCHEMA: table_schema(finetune_exports)},
)
def export_registry(
    context: AssetExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> MaterializeResult:
    """The week's export published into `FINETUNE_EXPORT_PATH/<week>/` (a folder or an object store),
    only if its blocking checks passed on exactly its bytes, and its audit rows in `finetune_exports`:
    path, record count, size, sha256, the exported evidence ids in file order, the week and the counts.
    The files and their rows together or not at all; a retried step finds them and adds none."""
    return MaterializeResult(metadata=_register_week(context, aiops_db, export_storage, context.partition_key))
