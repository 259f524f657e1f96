"""The weekly job and its schedule: early Monday in Taipei, export the week that just ended."""

import os

from dagster import AssetSelection, DefaultScheduleStatus, build_schedule_from_partitioned_job, define_asset_job

FEATURE_FLAG = "AIOPS_P3_FINETUNE_EXPORT"
TRUE_WORDS = {"1", "true", "yes", "on"}

weekly_finetune_export_job = define_asset_job(
    "weekly_finetune_export",
    selection=AssetSelection.groups("extract", "transform", "export"),
    description="Extract the week's verified repairs, build training pairs, write the JSONL and its audit row.",
)


def schedule_status(environ=os.environ) -> DefaultScheduleStatus:
    """The legacy feature flag decides whether the schedule starts running on deploy."""
    enabled = environ.get(FEATURE_FLAG, "").strip().lower() in TRUE_WORDS
    return DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED


weekly_finetune_export_schedule = build_schedule_from_partitioned_job(
    weekly_finetune_export_job,
    name="weekly_finetune_export_schedule",
    description="Mondays 02:00 Asia/Taipei: materializes the week that ended at Monday 00:00.",
    hour_of_day=2,
    minute_of_hour=0,
    default_status=schedule_status(),
)
