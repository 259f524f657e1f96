"""The week-health check on PostgreSQL: a week whose pairs halve, or whose skip rate jumps, gets a warning
with the figures; a usual week passes; a week with little history says so."""

from dagster import AssetCheckSeverity, DagsterInstance, materialize

from finetune_assets.dagster_defs.resources import CorpusPolicy

from ..corpus_weeks import Weeks
from ..seed import ASSET_CHECKS, LINEAGE_ASSETS, Week, at, materialize_week, resources

W0, W1, W2, W3 = "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"


def _usual_weeks(url: str, weeks: list[str], pairs: int = 4) -> Weeks:
    rows = Weeks(url)
    for week in weeks:
        for n in range(pairs):
            rows.add(week, f"{week}-{n}", f"disk {n} full on worker-{n} in {week}", alertname=f"Alert{n}")
    return rows


def _health(result):
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == "week_is_usual"]
    return evaluation


def test_a_week_with_a_quarter_of_the_usual_pairs_gets_a_warning_with_the_figures(postgres_url, tmp_path):
    _usual_weeks(postgres_url, [W0, W1, W2])
    _usual_weeks(postgres_url, [W3], pairs=1)
    instance = DagsterInstance.ephemeral()
    for week in (W0, W1, W2):
        assert _health(materialize_week(postgres_url, tmp_path, week, instance=instance)).passed
    evaluation = _health(materialize_week(postgres_url, tmp_path, W3, instance=instance))
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert (metadata["pairs"], metadata["median_pairs"], metadata["pairs_ratio"]) == (1, 4.0, 4.0)
    assert metadata["weeks_compared"] == [W2, W1, W0] and metadata["factor"] == 2.0
    assert "1 pairs against a median of 4 over 3 weeks" in metadata["departures"]


def test_a_jump_in_skipped_evidence_warns_and_a_looser_factor_lets_it_pass(postgres_url, tmp_path):
    _usual_weeks(postgres_url, [W0, W1, W2, W3])
    rows = Week(postgres_url)
    for n in range(4):  # verified, but neither a reasoning nor a repair: skipped
        rows.evidence(rows.incident(f"INC-silent-{n}", {"alertname": "Quiet"}), f"silent {n}", at(days=8, hours=n))
    rows.save()
    instance = DagsterInstance.ephemeral()
    for week in (W0, W1, W2):
        materialize_week(postgres_url, tmp_path, week, instance=instance)
    evaluation = _health(materialize_week(postgres_url, tmp_path, W3, instance=instance))
    assert not evaluation.passed
    assert (
        evaluation.metadata["skip_rate"].value == 0.5 and "skip rate 50.0%" in evaluation.metadata["departures"].value
    )

    given = resources(postgres_url, tmp_path)
    given["corpus_policy"] = CorpusPolicy(health_factor=100)
    again = materialize([*LINEAGE_ASSETS, *ASSET_CHECKS], partition_key=W3, resources=given, instance=instance)
    assert _health(again).passed


def test_a_week_without_enough_history_passes_and_says_why(postgres_url, tmp_path):
    _usual_weeks(postgres_url, [W2], pairs=2)
    evaluation = _health(materialize_week(postgres_url, tmp_path, W2))
    assert evaluation.passed and "fewer than 3 registered weeks" in evaluation.metadata["note"].value
