"""The checks on a week's export files, read back from the store the way trainers read them. A failed
blocking check keeps the week out of the registry."""

from concurrent.futures import ThreadPoolExecutor

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    Failure,
    MetadataValue,
    multi_asset_check,
)

from ...core.export_report import ExportReport, inference_problem
from ...core.line_formats import LINE_SCHEMAS
from ...core.records import CheckVerdict, ExportManifest, PairStats, TrainerFile
from ...dagster_defs.failures import failing_as
from ...dagster_defs.materializations import export_manifest
from ...dagster_defs.partitions import WEEKS, partitioned_checks
from ...dagster_defs.resources import DatasetPolicy, ExportStorage
from ...io.export_reader import Reading, UnreadableExport, count_records, validate_alpaca_export
from ...io.publish import located
from ...io.store import Store

EXPORT_CHECKS = {
    "records_are_well_formed": (
        "Every line parses and has exactly instruction, input, output (non-blank "
        "strings) and metadata with its seven string keys.",
        True,
    ),
    "no_secrets_survive": (
        "A scanner independent of the redactor (its own reading and an entropy test) finds no secret-like "
        "string in any text of the written files; pairs it flagged before writing were withheld (a warning), "
        "and more than FINETUNE_QUARANTINE_LIMIT of the week withheld blocks it.",
        True,
    ),
    "no_duplicates": ("No evidence_id twice, no (input, output) pair twice.", True),
    "loads_with_pyarrow": (
        "The snapshot and every trainer file load with pyarrow's JSON reader into one "
        "schema, with the line counts the export recorded.",
        True,
    ),
    "token_lengths": ("Estimated tokens per line (offline estimate); warns when lines exceed the limit.", False),
}
EXAMPLE_IDS = 50
BLOCKING = tuple(name for name, (_, blocking) in EXPORT_CHECKS.items() if blocking)
Results = dict[str, tuple[bool, dict]]
# Checks whose failure is only a warning this time: the week goes on to the registry.
WARNED = "warned"


def results_for_week(
    exports: Store, manifest: ExportManifest, token_limit: int, quarantine_limit: float
) -> tuple[Results, dict[str, str]]:
    """Each check's outcome and metadata, and the sha256 of each file as the checks read it."""
    if manifest.snapshot is None:
        note = {"note": "no training pairs this week: no file to check"}
        results = {name: (True, dict(note)) for name in EXPORT_CHECKS}
        results["no_secrets_survive"] = _secrets(None, manifest.stats, quarantine_limit)
        return results, {}
    # The trainer files are parsed (which releases the GIL) beside the snapshot's Python checks.
    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(_load_trainer_files, exports, manifest.trainer_files)
        try:
            report = validate_alpaca_export(exports, manifest.snapshot.path)
        except UnreadableExport as error:
            return {name: (False, {"error": str(error)}) for name in EXPORT_CHECKS}, {}
        loaded = loading.result()
    sha256 = {manifest.snapshot.name: report.sha256}
    sha256.update({name: result[1].sha256 for name, result in loaded.items() if not isinstance(result, str)})
    return {
        "records_are_well_formed": _well_formed(report),
        "no_secrets_survive": _secrets(report, manifest.stats, quarantine_limit),
        "no_duplicates": (
            not (report.duplicate_evidence_ids or report.duplicate_pairs),
            {"duplicate_evidence_ids": report.duplicate_evidence_ids, "duplicate_pairs": report.duplicate_pairs},
        ),
        "loads_with_pyarrow": _round_trip(manifest, report, loaded),
        "token_lengths": _token_lengths(report, token_limit),
    }, sha256


def _secrets(report: ExportReport | None, stats: PairStats, limit: float) -> tuple[bool, dict]:
    """Nothing found in the written files, and no more of the week withheld than the limit allows;
    pairs withheld within the limit make a warning (``WARNED`` in the metadata)."""
    found = report.secrets.found if report is not None else 0
    share = stats.withheld_share()
    metadata = {
        "found": found,
        "withheld": stats.quarantined,
        "withheld_share": round(share, 6),
        "quarantine_limit": limit,
        "withheld_pairs": MetadataValue.md(withheld_table(stats.withheld)),
    }
    if report is not None:
        metadata.update({f"found_{k}": v for k, v in report.secrets.counts.items()})
        metadata["evidence_ids"] = MetadataValue.md(bullets(report.secrets.evidence_ids[:EXAMPLE_IDS]))
        metadata["where"] = MetadataValue.md(bullets(report.secrets.examples))
    if found:
        metadata["reason"] = f"the scanner found {found} secret-like string(s) in the written files"
        return False, metadata
    if share > limit:
        metadata["reason"] = (
            f"{stats.quarantined} of {stats.selected - stats.skipped_no_output} pairs withheld ({share:.2%}), more "
            f"than FINETUNE_QUARANTINE_LIMIT ({limit:.2%}): the week is blocked; look at the withheld evidence ids"
        )
        return False, metadata
    if stats.quarantined:
        metadata[WARNED] = True
        metadata["reason"] = (
            f"{stats.quarantined} pair(s) withheld ({share:.2%}, within FINETUNE_QUARANTINE_LIMIT {limit:.2%}): "
            "the files hold every other pair"
        )
        return False, metadata
    return True, metadata


def withheld_table(withheld: list[dict]) -> str:
    if not withheld:
        return "_none_"
    rows = [f"| {item['evidence_id']} | {', '.join(item['findings'])} |" for item in withheld[:EXAMPLE_IDS]]
    more = (
        [f"| … {len(withheld) - EXAMPLE_IDS} more (all in the audit row's metadata) | |"]
        if len(withheld) > EXAMPLE_IDS
        else []
    )
    return "\n".join(["| evidence_id | found |", "|---|---|", *rows, *more])


def _well_formed(report: ExportReport) -> tuple[bool, dict]:
    metadata = {"lines": report.lines, "problem_lines": sum(report.problems.values())}
    if report.problems:
        metadata["problems"] = MetadataValue.md(bullets(report.examples))
    return not report.problems, metadata


def _load_trainer_files(exports: Store, files: tuple[TrainerFile, ...]) -> dict[str, tuple[int, Reading, str] | str]:
    """Each trainer file's name -> (lines that load, what reading found, its format), or why it does not load."""
    loaded = {}
    for file in files:
        try:
            loaded[file.name] = (
                *count_records(exports, file.path, LINE_SCHEMAS[file.trainer_format]),
                file.trainer_format,
            )
        except UnreadableExport as error:
            loaded[file.name] = str(error)
    return loaded


def _round_trip(manifest: ExportManifest, snapshot: ExportReport, trainer_files: dict) -> tuple[bool, dict]:
    written = {file.name: file.records for file in manifest.files}
    loaded = {
        manifest.snapshot.name: (snapshot.lines, Reading(snapshot.inferred, snapshot.sha256), "alpaca"),
        **trainer_files,
    }
    problems, schemas = [], {}
    for name, result in loaded.items():
        if isinstance(result, str):
            problems.append(result)
            continue
        lines, reading, trainer_format = result
        schemas[name] = reading.inferred
        if lines != written[name]:
            problems.append(f"{name}: {lines} lines load, {written[name]} were written")
        if reading.inferred is not None and (
            problem := inference_problem(reading.inferred, LINE_SCHEMAS[trainer_format])
        ):
            problems.append(f"{name}: {problem}")
    metadata = {
        "files": len(schemas),
        "schemas": MetadataValue.md(bullets([f"{n}: {_fields(s)}" for n, s in schemas.items()])),
    }
    if problems:
        metadata["problems"] = MetadataValue.md(bullets(problems))
    return not problems, metadata


def _fields(schema) -> str:
    return ", ".join(f"{field.name}: {field.type}" for field in schema)


def _token_lengths(report: ExportReport, limit: int) -> tuple[bool, dict]:
    summary = report.token_summary(limit)
    return summary["over_limit"] == 0, {f"tokens_{key}": value for key, value in summary.items()}


def bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "_none_"


def verdict_line(week: str, outcomes: Results) -> str:
    passed = [name for name, (ok, _) in outcomes.items() if ok]
    warned = [name for name, (ok, metadata) in outcomes.items() if not ok and metadata.get(WARNED)]
    failed = [name for name, (ok, metadata) in outcomes.items() if not ok and not metadata.get(WARNED)]
    line = f"week {week}: checks passed: {', '.join(passed) or 'none'}"
    line += f"; warned: {', '.join(warned)}" if warned else ""
    return line + (f"; FAILED: {', '.join(failed)}" if failed else "")


with partitioned_checks():
    SPECS = [
        AssetCheckSpec(name, asset="jsonl_export", description=description, blocking=blocking, partitions_def=WEEKS)
        for name, (description, blocking) in EXPORT_CHECKS.items()
    ]

    @multi_asset_check(specs=SPECS, description="Reads the week's export back from the store and checks it.")
    def jsonl_export_checks(
        context: AssetCheckExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
    ):
        exports, records, pending = export_storage.exports(), export_storage.records(), export_storage.pending()
        week = context.partition_key
        with failing_as(context, f"reading the export manifest of week {week}"):
            manifest = export_manifest(context)
        if manifest is None:
            raise Failure(f"week {week} has no export to check: materialize jsonl_export first", allow_retries=False)
        export = manifest.export
        with failing_as(context, f"finding the files of export {export} of week {week}"):
            # Read where the export is: still pending (the usual case), or already published when the
            # checks run again on a registered export.
            store, read = located(manifest, pending, exports)
        results, sha256 = results_for_week(store, read, dataset_policy.token_limit, dataset_policy.quarantine_limit)
        # A warning does not keep the week out of the registry.
        passed = {name: ok or bool(metadata.get(WARNED)) for name, (ok, metadata) in results.items()}
        if not passed["no_secrets_survive"] and manifest.snapshot is not None:
            context.log.warning(
                f"week {week}: a secret survived in export {export}: it is not published; its files stay in the "
                f"owner-only staging store ({store.url(read.snapshot.path)}) until a later run of the week sweeps "
                "them; see no_secrets_survive for the evidence ids"
            )
        records.write_verdict(week, CheckVerdict(export, context.run.run_id, passed, BLOCKING, sha256))
        context.log.info(verdict_line(week, results))
        for spec in SPECS:
            ok, metadata = results[spec.name]
            warned = metadata.get(WARNED) is True
            severity = AssetCheckSeverity.ERROR if spec.blocking and not warned else AssetCheckSeverity.WARN
            yield AssetCheckResult(
                asset_key=spec.asset_key, check_name=spec.name, passed=ok, severity=severity, metadata=metadata
            )
