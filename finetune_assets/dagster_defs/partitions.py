"""The one weekly partitioning every asset shares: Monday 00:00 Asia/Taipei to the next Monday."""

from dagster import WeeklyPartitionsDefinition

DEFAULT_START_DATE = "2026-01-05"


def weekly_partitions(start_date: str = DEFAULT_START_DATE) -> WeeklyPartitionsDefinition:
    """Complete weeks only (a week is offered once it has ended), keyed by their Monday."""
    return WeeklyPartitionsDefinition(start_date=start_date, day_offset=1, timezone="Asia/Taipei", end_offset=0)
