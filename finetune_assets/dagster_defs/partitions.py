"""The one weekly partitioning every asset shares: Monday 00:00 Asia/Taipei to the next Monday."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import PreviewWarning, WeeklyPartitionsDefinition

# The first week offered. Declared in code, not read from the environment: Dagster reads an asset's
# partitions as its module is imported, and importing reads no setting (a scaffolded asset imports
# WEEKS as every asset here does). To offer earlier weeks, change it here.
START_DATE = "2026-01-05"


def weekly_partitions(start_date: str = START_DATE) -> WeeklyPartitionsDefinition:
    """Complete weeks only (a week is offered once it has ended), keyed by their Monday."""
    return WeeklyPartitionsDefinition(start_date=start_date, day_offset=1, timezone="Asia/Taipei", end_offset=0)


WEEKS = weekly_partitions()


@contextmanager
def partitioned_checks() -> Iterator[None]:
    """Around the definition of a weekly check. Dagster 1.13 marks a partitions_def on a check as a
    preview (a PreviewWarning as the check is defined); the weekly checks need it, so that each week
    shows its own results and blocks its own registration, and a user should not see the warning on
    every load."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=PreviewWarning, message="Specifying a partitions_def on an AssetCheckSpec"
        )
        yield
