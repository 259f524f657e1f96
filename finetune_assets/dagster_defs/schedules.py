"""The weekly job and its schedule: early Monday in Taipei, export the week that just ended."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from .assets.export import EXPORT_GROUP
from .assets.extract import EXTRACT_GROUP
from .assets.transform import TRANSFORM_GROUP

JOB_NAME = "weekly_finetune_export"


def weekly_job():
    """Partitioned as its assets are: weekly."""
    return define_asset_job(
        JOB_NAME,
        selection=AssetSelection.groups(EXTRACT_GROUP, TRANSFORM_GROUP, EXPORT_GROUP),
        description="Extract the week's verified repairs, build training pairs, write the JSONL and its audit row.",
    )


def weekly_schedule(job, running: bool) -> ScheduleDefinition:
    """``running``: the legacy feature flag, which decides whether the schedule runs once deployed."""
    return build_schedule_from_partitioned_job(
        job,
        name="weekly_finetune_export_schedule",
        description="Mondays 02:00 Asia/Taipei: materializes the week that ended at Monday 00:00.",
        hour_of_day=2,
        minute_of_hour=0,
        default_status=DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED,
    )
