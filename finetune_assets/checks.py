"""Asset checks on what was actually written: the export files read back from disk, and the audit
rows read back from ``finetune_exports``. A failed blocking check keeps the week out of the registry."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import compress

import pyarrow.compute as pc
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from .assets.export import export_registry, jsonl_export
from .export_validation import (
    ALPACA_SCHEMA,
    ExportReport,
    UnreadableExport,
    count_records,
    read_json_lines,
    validate_alpaca_export,
)
from .jsonl import file_digest_and_lines
from .manifest import audit_rows_of, file_name, read_manifest, written_files
from .partitions import weekly_partitions
from .registry import IdsDigest, registered_row
from .resources import AiopsDatabase, DatasetPolicy, ExportStorage
from .splits import split_column, validation_mask
from .storage import Store


def _spec(name: str, description: str, blocking: bool = True) -> AssetCheckSpec:
    return AssetCheckSpec(
        name, asset=jsonl_export, description=description, blocking=blocking, partitions_def=weekly_partitions
    )


EXPORT_CHECKS = [
    _spec("records_are_well_formed", "Every line parses and has exactly instruction, input, output (non-blank "
          "strings) and metadata with its seven string keys."),
    _spec("no_secrets_survive", "A scanner independent of the redactor (other rules and an entropy test) finds "
          "no secret-like string in input or output."),
    _spec("no_duplicates", "No evidence_id twice, no (input, output) pair twice."),
    _spec("loads_with_pyarrow", "The snapshot and every trainer file load with pyarrow's JSON reader into one "
          "schema, with the line counts the export recorded."),
    _spec("token_lengths", "Estimated tokens per line (offline estimate); warns when lines exceed the limit.",
          blocking=False),
]


def _results_for_week(exports: Store, manifest: dict, token_limit: int) -> dict[str, tuple[bool, dict]]:
    snapshot = manifest["snapshot"]
    if not snapshot:
        note = {"note": "no training pairs this week: no file to check"}
        return {spec.name: (True, note) for spec in EXPORT_CHECKS}
    # The trainer files are parsed (which releases the GIL) beside the snapshot's Python checks.
    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(_load_trainer_files, exports, manifest["trainer_files"])
        try:
            report = validate_alpaca_export(exports, snapshot["path"])
        except UnreadableExport as error:
            return {spec.name: (False, {"error": str(error)}) for spec in EXPORT_CHECKS}
        loaded = loading.result()
    return {
        "records_are_well_formed": _well_formed(report),
        "no_secrets_survive": (
            report.secrets.found == 0,
            {"found": report.secrets.found, **{f"found_{k}": v for k, v in report.secrets.counts.items()},
             "where": MetadataValue.md(_bullets(report.secrets.examples))},
        ),
        "no_duplicates": (
            not (report.duplicate_evidence_ids or report.duplicate_pairs),
            {"duplicate_evidence_ids": report.duplicate_evidence_ids, "duplicate_pairs": report.duplicate_pairs},
        ),
        "loads_with_pyarrow": _round_trip(manifest, report, loaded),
        "token_lengths": _token_lengths(report, token_limit),
    }


def _well_formed(report: ExportReport) -> tuple[bool, dict]:
    metadata = {"lines": report.lines, "problem_lines": sum(report.problems.values())}
    if report.problems:
        metadata["problems"] = MetadataValue.md(_bullets(report.examples))
    return not report.problems, metadata


def _load_trainer_files(exports: Store, files: list[dict]) -> dict[str, tuple[int, object] | str]:
    """Each trainer file's name -> (lines that load, the schema they load into), or why it does not load."""
    loaded = {}
    for file in files:
        name = file_name(file)
        try:
            loaded[name] = count_records(exports, file["path"])
        except UnreadableExport as error:
            loaded[name] = str(error)
    return loaded


def _round_trip(manifest: dict, snapshot: ExportReport, trainer_files: dict) -> tuple[bool, dict]:
    written = {file_name(file): file["records"] for file in written_files(manifest)}
    loaded = {file_name(manifest["snapshot"]): (snapshot.lines, snapshot.schema), **trainer_files}
    problems, schemas = [], {}
    for name, result in loaded.items():
        if isinstance(result, str):
            problems.append(result)
            continue
        lines, schemas[name] = result
        if lines != written[name]:
            problems.append(f"{name}: {lines} lines load, {written[name]} were written")
    metadata = {"files": len(schemas), "schemas": MetadataValue.md(_bullets([f"{n}: {_fields(s)}" for n, s in schemas.items()]))}
    if problems:
        metadata["problems"] = MetadataValue.md(_bullets(problems))
    return not problems, metadata


def _fields(schema) -> str:
    return ", ".join(f"{field.name}: {field.type}" for field in schema)


def _token_lengths(report: ExportReport, limit: int) -> tuple[bool, dict]:
    summary = report.token_summary(limit)
    return summary["over_limit"] == 0, {f"tokens_{key}": value for key, value in summary.items()}


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "_none_"


def _combined(per_week: dict[str, dict[str, tuple[bool, dict]]], name: str) -> tuple[bool, dict]:
    """One week as it is; a range run passes only if every week passes, metadata keyed by week."""
    if len(per_week) == 1:
        return next(iter(per_week.values()))[name]
    passed, metadata = True, {}
    for week, results in per_week.items():
        week_passed, week_metadata = results[name]
        passed &= week_passed
        metadata.update({f"{week} {key}": value for key, value in week_metadata.items()})
        metadata[f"{week} passed"] = week_passed
    return passed, metadata


@multi_asset_check(specs=EXPORT_CHECKS, description="Reads each week's export back from disk and checks it.")
def jsonl_export_checks(
    context: AssetCheckExecutionContext, export_storage: ExportStorage, dataset_policy: DatasetPolicy
):
    staging, exports = export_storage.staging(), export_storage.exports()
    per_week = {
        week: _results_for_week(exports, read_manifest(staging, week), dataset_policy.token_limit)
        for week in context.partition_keys
    }
    outcomes = {spec.name: _combined(per_week, spec.name) for spec in EXPORT_CHECKS}
    context.log.info(_verdict_line(context.partition_keys, outcomes))
    for spec in EXPORT_CHECKS:
        passed, metadata = outcomes[spec.name]
        severity = AssetCheckSeverity.ERROR if spec.blocking else AssetCheckSeverity.WARN
        yield AssetCheckResult(
            asset_key=jsonl_export.key, check_name=spec.name, passed=passed, severity=severity, metadata=metadata
        )


def _verdict_line(weeks: list[str], outcomes: dict[str, tuple[bool, dict]]) -> str:
    passed = [name for name, (ok, _) in outcomes.items() if ok]
    failed = [name for name, (ok, _) in outcomes.items() if not ok]
    line = f"week {', '.join(weeks)}: checks passed: {', '.join(passed) or 'none'}"
    return line + (f"; FAILED: {', '.join(failed)}" if failed else "")


def _file_ids(exports: Store, path: str, group_column: str, validation_fraction: float) -> dict:
    """Digests of the evidence ids in file order: all of them, and each side of the split as
    recomputed from each line's group."""
    digests = {None: IdsDigest(), "train": IdsDigest(), "validation": IdsDigest()}
    for batch in read_json_lines(exports, path, ALPACA_SCHEMA):
        metadata = batch.column("metadata")
        ids = pc.struct_field(metadata, "evidence_id").to_pylist()
        validation = validation_mask(pc.struct_field(metadata, group_column), validation_fraction)
        digests[None].update(ids)
        digests["train"].update(list(compress(ids, ~validation)))
        digests["validation"].update(list(compress(ids, validation)))
    return {side: digest.value for side, digest in digests.items()}


def _row_mismatches(row: dict | None, expected, file: dict, stored: dict, ids: tuple[int, str]) -> list[str]:
    name = file_name(file)
    if row is None:
        return [f"{name}: no audit row"]
    stored = {"export_type": expected.export_type, **stored}
    problems = [f"{name}: {key} is {row[key]!r}, the file says {value!r}" for key, value in stored.items() if row[key] != value]
    if (row["id_count"], row["ids_sha256"]) != ids:
        problems.append(f"{name}: source_ids ({row['id_count']}) differ from the file's {ids[0]} evidence ids")
    return problems


def _as_stored(exports: Store, file: dict) -> dict:
    sha256, lines = file_digest_and_lines(exports, file["path"])
    return {"record_count": lines, "size_bytes": exports.size(file["path"]), "checksum_sha256": sha256}


def _audit_problems(aiops_db: AiopsDatabase, staging: Store, exports: Store, manifest: dict) -> tuple[list[str], int]:
    expected_rows, files = audit_rows_of(manifest, staging, manifest["run_id"]), written_files(manifest)
    # Hashing the files (which releases the GIL) runs beside parsing the snapshot's ids.
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = pool.map(partial(_as_stored, exports), files)
        ids_of = _file_ids(
            exports, manifest["snapshot"]["path"], split_column(manifest["split_key"]), manifest["validation_fraction"]
        )
        stored = list(stored)
    problems = []
    for expected, file, as_stored in zip(expected_rows, files, stored):
        row = registered_row(aiops_db, expected.file_path)
        problems += _row_mismatches(row, expected, file, as_stored, ids_of[expected.split])
    return problems, len(expected_rows)


@asset_check(
    asset=export_registry,
    partitions_def=weekly_partitions,
    description="Each audit row agrees with its file as stored: line count, bytes, sha256 and the evidence ids "
    "in file order (a split file's ids recomputed from the snapshot's groups).",
)
def audit_rows_match_files(
    context: AssetCheckExecutionContext, aiops_db: AiopsDatabase, export_storage: ExportStorage
) -> AssetCheckResult:
    problems, rows = [], 0
    staging, exports = export_storage.staging(), export_storage.exports()
    for week in context.partition_keys:
        manifest = read_manifest(staging, week)
        if manifest["snapshot"]:
            week_problems, week_rows = _audit_problems(aiops_db, staging, exports, manifest)
            problems += [f"{week}: {problem}" for problem in week_problems]
            rows += week_rows
    context.log.info(
        f"week {', '.join(context.partition_keys)}: {rows} audit row(s) "
        + ("match their files" if not problems else f"do NOT match their files: {len(problems)} problem(s)")
    )
    return AssetCheckResult(
        passed=not problems, metadata={"rows_checked": rows, "problems": MetadataValue.md(_bullets(problems))}
    )


ASSET_CHECKS = [jsonl_export_checks, audit_rows_match_files]
