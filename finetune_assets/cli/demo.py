"""``finetune-demo``: build the embedded demo database (when missing) and export the latest week due
through the weekly job, printing what a user needs to know. The week due, not the latest complete
one: from Monday 00:00 to 09:00 Taipei the freshness check still judges the week before, and a demo
of the newer week would report it failed."""

import argparse
import os
from pathlib import Path

from dagster import DagsterInstance

from ..core.weeks import latest_due_week
from ..db.demo_data import DEMO_DATABASE, build_demo_database
from ..definitions import build_definitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the demo database and export the latest week due.")
    parser.add_argument("--week", default=latest_due_week(), help="partition key, a Monday (default: latest due)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the demo database first")
    args = parser.parse_args(argv)
    if args.rebuild or not DEMO_DATABASE.exists():
        build_demo_database(DEMO_DATABASE, args.week)
        print(f"built the demo AIOps database {DEMO_DATABASE}")
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    job = build_definitions().resolve_job_def("weekly_finetune_export")
    # The summary below is what a user needs; Dagster's own console lines would bury it. Errors still print.
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    result = job.execute_in_process(partition_key=args.week, instance=instance, run_config=quiet, raise_on_error=False)
    if not result.success:
        print(f"week {args.week}: the export failed (run {result.run_id}); the error is above")
        return 1
    for line in summary_lines(args.week, result):
        print(line)
    return 0


def summary_lines(week: str, result) -> list[str]:
    """Which week, how many pairs, where the files are, which checks passed, what was registered."""
    metadata = {
        event.asset_key.to_user_string(): {
            k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }
    export, pairs = metadata["jsonl_export"], metadata["training_pairs"]
    if "path" not in export:
        return [f"week {week}: no training pairs, so no file was written"]
    registry = metadata.get("export_registry", {})
    # Published once the blocking checks passed; before that, only in the owner-only staging store.
    where = Path(registry.get("path", export["path"]))
    checks = [evaluation.check_name for evaluation in result.get_asset_check_evaluations() if evaluation.passed]
    failed = [evaluation.check_name for evaluation in result.get_asset_check_evaluations() if not evaluation.passed]
    lines = [
        f"week {week}: {export['dagster/row_count']} training pairs written to {where}"
        f" ({pairs['count_skipped_no_output']} evidence skipped without output, {pairs['count_duplicates']} duplicates,"
        f" {pairs['redacted_total']} secrets redacted)",
        f"train/validation files, dataset card and dataset_info.json: {where.with_suffix('')}/",
        f"checks passed: {', '.join(checks)}",
    ]
    if failed:
        lines.append(f"checks failed (warnings): {', '.join(failed)}")
    if "path" not in registry:
        lines.append("not published: the files stay in the staging store, where trainers do not look")
    lines.append(f"registered in finetune_exports: {registry.get('audit_row_count', 0)} audit rows")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
