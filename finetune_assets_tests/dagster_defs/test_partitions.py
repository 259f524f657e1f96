"""Weeks: Monday 00:00 Asia/Taipei to the next Monday, keyed by the Monday's date."""

from datetime import datetime, timezone

import pytest

from finetune_assets.core.weeks import EXPORT_DUE_HOUR, TAIPEI, latest_complete_week, latest_due_week, week_window
from finetune_assets.dagster_defs.partitions import weekly_partitions
from finetune_assets.defs.checks.week_health import EXPORT_DEADLINE_CRON


def test_week_window_is_taipei_monday_to_monday():
    start, end = week_window("2026-11-09")
    assert start == datetime(2026, 11, 8, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 15, 16, 0, tzinfo=timezone.utc)


def test_week_window_rejects_a_key_that_is_not_a_monday():
    with pytest.raises(ValueError, match="not a Monday"):
        week_window("2026-11-10")


def test_partitions_definition_matches_week_window():
    window = weekly_partitions().time_window_for_partition_key("2026-11-09")
    assert (window.start, window.end) == week_window("2026-11-09")


@pytest.mark.parametrize(
    ("now", "complete", "due"),
    [
        (datetime(2026, 11, 15, 23, 59, tzinfo=TAIPEI), "2026-11-02", "2026-11-02"),
        (datetime(2026, 11, 16, 0, 0, tzinfo=TAIPEI), "2026-11-09", "2026-11-02"),
        # Sunday evening in UTC is already Monday in Taipei: the last week is complete, not yet due.
        (datetime(2026, 11, 15, 17, 0, tzinfo=timezone.utc), "2026-11-09", "2026-11-02"),
        (datetime(2026, 11, 16, 8, 59, tzinfo=TAIPEI), "2026-11-09", "2026-11-02"),
        (datetime(2026, 11, 16, 9, 0, tzinfo=TAIPEI), "2026-11-09", "2026-11-09"),
        (datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc), "2026-11-30", "2026-11-23"),
    ],
)
def test_the_latest_complete_week_and_the_latest_week_due(now, complete, due):
    assert latest_complete_week(now) == complete
    assert latest_due_week(now) == due


def test_a_week_falls_due_at_the_freshness_checks_deadline():
    assert EXPORT_DEADLINE_CRON == f"0 {EXPORT_DUE_HOUR} * * 1"


def test_only_complete_weeks_are_partitions():
    keys = weekly_partitions().get_partition_keys(current_time=datetime(2026, 11, 18, tzinfo=TAIPEI))
    assert keys[-1] == "2026-11-09"
    assert keys[0] == "2026-01-05"
