"""The weekly schedule: early Monday in Taipei, export the week that just ended."""

from dagster import DefaultScheduleStatus, ScheduleDefinition, build_schedule_from_partitioned_job


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
