"""A week against the median of the weeks before it."""

import pytest

from finetune_assets.core.week_health import Health, WeekFigures

HISTORY = [
    WeekFigures(f"w{n}", pairs, 1000, skipped) for n, (pairs, skipped) in enumerate([(900, 50)] * 5 + [(1000, 40)] * 3)
]


def _health(pairs, selected=1000, skipped=50, history=HISTORY, factor=2.0):
    return Health(WeekFigures("now", pairs, selected, skipped), history, factor)


def test_a_usual_week_has_no_departure():
    health = _health(800)
    assert health.departures() == [] and health.median_pairs == 900 and health.pairs_ratio == pytest.approx(1.125)


@pytest.mark.parametrize("pairs", [400, 1900, 0])
def test_a_halved_or_doubled_pair_count_departs(pairs):
    [departure] = _health(pairs).departures()
    assert f"{pairs} pairs against a median of 900" in departure


def test_a_jump_in_the_skip_rate_departs():
    [departure] = _health(800, skipped=400).departures()
    assert "skip rate 40.0% against a median of 5.0%" in departure


def test_a_tiny_skip_rate_from_zero_is_not_a_departure():
    history = [WeekFigures(f"w{n}", 900, 900, 0) for n in range(8)]
    assert _health(900, selected=1000, skipped=1, history=history).departures() == []


def test_the_factor_is_configurable():
    assert _health(600, factor=1.2).departures() and not _health(600, factor=2.0).departures()


def test_with_too_little_history_nothing_is_compared():
    health = _health(1, history=HISTORY[:2])
    assert not health.enough_history and health.departures() == []
