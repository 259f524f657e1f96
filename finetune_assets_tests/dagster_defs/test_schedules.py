"""The weekly schedule: Monday early morning in Taipei, for the week that just ended."""

from datetime import datetime

import pytest
from dagster import DefaultScheduleStatus, build_schedule_context

from finetune_assets.core.weeks import TAIPEI
from finetune_assets.dagster_defs.settings import ConfigurationError
from finetune_assets.definitions import build_definitions


def test_the_schedule_requests_the_week_that_just_ended():
    schedule = build_definitions({}).resolve_schedule_def("weekly_finetune_export_schedule")
    assert schedule.cron_schedule == "0 2 * * 1"
    assert schedule.execution_timezone == "Asia/Taipei"
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 11, 16, 2, 0, tzinfo=TAIPEI))
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-09"
    assert schedule.job_name == "weekly_finetune_export"


@pytest.mark.parametrize(
    ("flag", "status"),
    [
        ("true", DefaultScheduleStatus.RUNNING),
        ("1", DefaultScheduleStatus.RUNNING),
        ("Yes", DefaultScheduleStatus.RUNNING),
        ("false", DefaultScheduleStatus.STOPPED),
        ("0", DefaultScheduleStatus.STOPPED),
        ("no", DefaultScheduleStatus.STOPPED),
        (None, DefaultScheduleStatus.STOPPED),
    ],
)
def test_the_legacy_feature_flag_decides_the_loaded_schedules_default_status(flag, status):
    environ = {} if flag is None else {"AIOPS_P3_FINETUNE_EXPORT": flag}
    loaded = build_definitions(environ).resolve_schedule_def("weekly_finetune_export_schedule")
    assert loaded.default_status == status


@pytest.mark.parametrize("flag", ["", "on", "enabled", "ture"])
def test_a_flag_that_is_not_a_boolean_stops_the_code_location_from_loading(flag):
    with pytest.raises(ConfigurationError, match="AIOPS_P3_FINETUNE_EXPORT"):
        build_definitions({"AIOPS_P3_FINETUNE_EXPORT": flag})
