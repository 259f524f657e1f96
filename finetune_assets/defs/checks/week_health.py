"""The weeks' health in view: is the last complete week exported by Monday 09:00 in Taipei, and does a
week's pair count or skip rate depart from the weeks before it."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    DefaultSensorStatus,
    MetadataValue,
    SupersessionWarning,
    asset_check,
    build_sensor_for_freshness_checks,
    build_time_partition_freshness_checks,
)

from ...core.week_health import MIN_HISTORY, TRAILING_WEEKS, Health, WeekFigures
from ...core.weeks import EXPORT_DUE_HOUR
from ...dagster_defs.failures import failing_as
from ...dagster_defs.materializations import latest_materialization, manifest_of
from ...dagster_defs.partitions import WEEKS, partitioned_checks
from ...dagster_defs.resources import AiopsDatabase, CorpusPolicy
from ...db.corpus_registry import week_figures

# The schedule exports at Monday 02:00; by 09:00 (EXPORT_DUE_HOUR), when people start work, the week should be there.
EXPORT_DEADLINE_CRON = f"0 {EXPORT_DUE_HOUR} * * 1"
TIMEZONE = "Asia/Taipei"
TOO_LITTLE_HISTORY = f"fewer than {MIN_HISTORY} registered weeks before it: nothing compared"


def _figures(week: str, metadata: dict | None) -> WeekFigures | None:
    if metadata is None:
        return None
    return WeekFigures(week, int(metadata["exported"]), int(metadata["selected"]), int(metadata["skipped"]))


def _this_week(week: str, registered: dict, instance: DagsterInstance) -> WeekFigures:
    """From its audit row; a week without pairs has none, and then from its latest export's manifest."""
    if week in registered:
        return _figures(week, registered[week])
    export = latest_materialization(instance, "jsonl_export", week)
    if export is None:
        return WeekFigures(week, 0, 0, 0)
    stats = manifest_of(export).stats
    return WeekFigures(week, stats.exported, stats.selected, stats.skipped_no_output)


with partitioned_checks():

    @asset_check(
        asset="export_registry",
        partitions_def=WEEKS,
        description=f"Warns when a week's pair count or skip rate is more than FINETUNE_WEEK_HEALTH_FACTOR times above "
        f"or below the median of the {TRAILING_WEEKS} weeks before it (registered weeks only).",
    )
    def week_is_usual(
        context: AssetCheckExecutionContext,
        aiops_db: AiopsDatabase,
        corpus_policy: CorpusPolicy,
    ) -> AssetCheckResult:
        with failing_as(context, "reading the weeks' counts"):
            registered = week_figures(aiops_db.database())
            week = context.partition_key
            before = [(date.fromisoformat(week) - timedelta(weeks=n)).isoformat() for n in range(1, TRAILING_WEEKS + 1)]
            history = [_figures(w, registered[w]) for w in before if w in registered]
            last = Health(_this_week(week, registered, context.instance), history, corpus_policy.health_factor)
        departures = [f"{week}: {d}" for d in last.departures()]
        return AssetCheckResult(
            passed=not departures,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "week": last.week.week,
                "pairs": last.week.pairs,
                "median_pairs": float(last.median_pairs),
                "pairs_ratio": _shown(last.pairs_ratio),
                "skip_rate": round(last.week.skip_rate, 4),
                "median_skip_rate": round(last.median_skip_rate, 4),
                "skip_ratio": _shown(last.skip_ratio),
                "factor": corpus_policy.health_factor,
                "weeks_compared": MetadataValue.json([item.week for item in last.history]),
                "departures": MetadataValue.md("\n".join(f"- {d}" for d in departures) or "none"),
                **({} if last.enough_history else {"note": TOO_LITTLE_HISTORY}),
            },
        )


def _shown(ratio: float) -> float | str:
    return round(ratio, 3) if ratio != float("inf") else "infinite"


@contextmanager
def _knowingly_superseded() -> Iterator[None]:
    # Dagster 1.13 prefers a FreshnessPolicy, which judges an asset by its latest materialization of any
    # partition: a backfill of an old week would look fresh. The partition check asks whether the last
    # complete week itself is there, which is the question.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SupersessionWarning, message=".*freshness_checks")
        yield


# The last complete week registered by Monday 09:00 Taipei; evaluated by the sensor below.
with _knowingly_superseded():
    export_freshness_checks = list(
        build_time_partition_freshness_checks(
            assets=[AssetKey("export_registry")], deadline_cron=EXPORT_DEADLINE_CRON, timezone=TIMEZONE
        )
    )
    weekly_export_freshness = build_sensor_for_freshness_checks(
        freshness_checks=export_freshness_checks,
        name="weekly_export_freshness",
        default_status=DefaultSensorStatus.RUNNING,
    )
