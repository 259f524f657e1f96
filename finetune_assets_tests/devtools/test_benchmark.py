"""The benchmark: a floor that is honest (every form tried, all exporting the pipeline's lines) and a
report that says which targets were met."""

import subprocess
import sys
import uuid

import pytest

from finetune_assets.devtools.benchmark import floor
from finetune_assets.devtools.benchmark.floor import FORMS, FloorRun, fastest_floor
from finetune_assets.devtools.benchmark.pipeline import PipelineRun
from finetune_assets.devtools.benchmark.process_tree import Measured
from finetune_assets.devtools.benchmark.report import SizeResult, table, verdicts
from finetune_assets.devtools.benchmark.synthetic import generate

from ..seed import WEEK, export_files, materialize_week, read_lines


def synthetic_week(postgres_server, n: int) -> tuple[str, str]:
    """A database of the benchmark's own synthetic data: (SQLAlchemy URL, libpq DSN)."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    generate(postgres_server.dsn(name), n, WEEK)
    return url, postgres_server.dsn(name)


def test_every_floor_form_exports_the_lines_the_pipeline_builds_by_its_rules(postgres_server, tmp_path):
    url, dsn = synthetic_week(postgres_server, 400)
    fastest, runs = fastest_floor(dsn, WEEK, tmp_path / "floor.jsonl", runs=1)
    assert {run.form for run in runs} == set(FORMS)
    assert fastest.seconds == min(run.seconds for run in runs) and fastest.lines == 400

    floor_lines = {line["metadata"]["evidence_id"]: line for line in read_lines(tmp_path / "floor.jsonl")}
    materialize_week(url, tmp_path / "exports")
    [export] = export_files(tmp_path / "exports")
    pipeline_lines = read_lines(export)
    # One summary in fifty repeats an earlier pair: only the pipeline collapses those.
    assert len(pipeline_lines) == 400 - 400 // 50
    redacted = 0
    for line in pipeline_lines:
        expected = floor_lines[line["metadata"]["evidence_id"]]
        assert (line["instruction"], line["output"], line["metadata"]) == (
            expected["instruction"],
            expected["output"],
            expected["metadata"],
        )
        if "[REDACTED:" in line["input"]:
            redacted += 1
        else:
            assert line["input"] == expected["input"]
    assert redacted == 8  # one summary in fifty carries a credential: redaction is part of what is timed


def test_a_form_that_exports_other_lines_stops_the_benchmark(postgres_server, tmp_path, monkeypatch):
    _, dsn = synthetic_week(postgres_server, 30)
    oldest_first = FORMS["LATERAL LIMIT 1"].replace("s.created_at DESC, s.id DESC", "s.created_at, s.id")
    assert oldest_first != FORMS["LATERAL LIMIT 1"]
    monkeypatch.setitem(floor.FORMS, "LATERAL LIMIT 1", oldest_first)
    with pytest.raises(RuntimeError, match="the floor's query forms exported different lines"):
        fastest_floor(dsn, WEEK, tmp_path / "floor.jsonl", runs=1)


def _result(n: int, floor_seconds: float, pipeline_seconds: float, peak_mib: int, digests=("a", "a")) -> SizeResult:
    floor_run = FloorRun("EXISTS", floor_seconds, n, "f")
    pipelines = [
        PipelineRun(Measured(pipeline_seconds + i, peak_mib * 2**20, 0, ""), n, digest, {})
        for i, digest in enumerate(digests)
    ]
    return SizeResult(n, floor_run, [floor_run], pipelines, 1000.0, 2000.0)


def test_each_target_is_judged_from_the_runs_figures():
    met = verdicts([_result(100_000, 2.0, 4.9, 800), _result(1_000_000, 20.0, 25.9, 900)], 3.9)
    assert [ok for _, ok in met] == [True] * 7

    missed = verdicts([_result(100_000, 2.0, 5.1, 700), _result(1_000_000, 20.0, 26.1, 1000, digests=("a", "b"))], 4.1)
    assert [ok for _, ok in missed] == [False, True, False, False, False, False, False]
    assert "1M peak RSS +43% against 100k's (within 25%)" in [what for what, _ in missed]
    # The rise redaction by context may cost: 3.68 x the floor is within it, 3.69 is not.
    edge = [verdicts([_result(1_000_000, 100.0, pipeline, 900)], None)[1] for pipeline in (368.0, 369.0)]
    assert [ok for _, ok in edge] == [True, False]
    assert edge[0][0] == "1M: redaction by context raised the ratio +0.20 (at most +0.20 over 3.48)"


def test_sizes_a_run_did_not_measure_are_said_to_be_unmeasured():
    found = verdicts([_result(2_000, 0.1, 3.0, 300)], None)
    assert found == [("1M: not measured in this run", None), ("100k: not measured in this run", None)]
    assert "| 2,000 | EXISTS, 0.10 s | 3.00 s | 30.00 |" in table([_result(2_000, 0.1, 3.0, 300)])


@pytest.mark.e2e
def test_the_documented_command_prints_the_table_the_details_and_the_verdicts():
    command = [sys.executable, "-m", "finetune_assets.devtools.benchmark", "--sizes", "300", "--runs", "1"]
    output = subprocess.run([*command, "--legacy-sample", "20"], capture_output=True, text=True, timeout=600)
    assert output.returncode in (0, 1), output.stderr[-3000:]
    lines = output.stdout.splitlines()
    assert lines[0].startswith("| N | floor (fastest form) | pipeline | pipeline / floor |")
    [row] = [line for line in lines if line.startswith("| 300 |")]
    assert row.endswith("| yes |")
    details = [line for line in lines if line.startswith("N=300: 294 lines")]
    assert details and "steps of the best run: successful_evidence" in details[0]
    assert any(line.startswith("empty week 2026-11-16: ") for line in lines)
    verdict_lines = lines[lines.index("targets:") + 1 :]
    assert any("empty week" in line for line in verdict_lines)
    # The exit status says whether a measured target was missed; which it is depends on the machine.
    assert output.returncode == (1 if any("MISSED" in line for line in verdict_lines) else 0)
