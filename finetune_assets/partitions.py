"""The one weekly partitioning every asset shares: Monday 00:00 Asia/Taipei to the next Monday."""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import WeeklyPartitionsDefinition

TAIPEI = ZoneInfo("Asia/Taipei")
DEFAULT_START_DATE = "2026-01-05"

# The start date shapes the partition set the UI lists, so it is read when definitions load;
# it is configuration, not a secret.
weekly_partitions = WeeklyPartitionsDefinition(
    start_date=os.environ.get("FINETUNE_PARTITIONS_START_DATE", DEFAULT_START_DATE),
    day_offset=1,
    timezone="Asia/Taipei",
    end_offset=0,
)


def week_window(partition_key: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in Asia/Taipei for a key such as ``2026-11-09``."""
    start = datetime.strptime(partition_key, "%Y-%m-%d").replace(tzinfo=TAIPEI)
    if start.weekday() != 0:
        raise ValueError(f"partition key {partition_key!r} is not a Monday")
    return start, start + timedelta(days=7)


def latest_complete_week(now: datetime | None = None) -> str:
    """The key of the last week that has fully ended, as the schedule would pick it."""
    now = (now or datetime.now(TAIPEI)).astimezone(TAIPEI)
    this_monday = (now - timedelta(days=now.weekday())).date()
    return (this_monday - timedelta(days=7)).isoformat()
