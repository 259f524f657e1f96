"""Weeks as the project counts them: Monday 00:00 Asia/Taipei to the next Monday, keyed by the Monday."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")


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


# A week's export is due by this hour (Taipei) of the Monday after it: the freshness check's deadline.
EXPORT_DUE_HOUR = 9


def latest_due_week(now: datetime | None = None) -> str:
    """The key of the last week whose export is due: the latest complete week from Monday 09:00 Taipei
    on, the week before it until then (the week the freshness check judges)."""
    now = (now or datetime.now(TAIPEI)).astimezone(TAIPEI)
    return latest_complete_week(now - timedelta(hours=EXPORT_DUE_HOUR))


def is_monday(key: str) -> bool:
    try:
        return date.fromisoformat(key).weekday() == 0
    except ValueError:
        return False
