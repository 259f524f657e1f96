"""The corpus benchmark: floors that do what the issue says (DuckDB, one statement, the earliest of
each exact duplicate; a bare rensa script), registered weeks the corpus reads as it reads real ones,
and honest verdicts."""

import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from finetune_assets.devtools.benchmark.corpus_floor import CorpusFloor, corpus_floor
from finetune_assets.devtools.benchmark.corpus_rensa import rensa_floor
from finetune_assets.devtools.benchmark.corpus_report import CorpusResult, flatness, table
from finetune_assets.devtools.benchmark.corpus_runs import CorpusRun
from finetune_assets.devtools.benchmark.corpus_weeks import register_weeks, week_tables, weeks_ending
from finetune_assets.devtools.benchmark.process_tree import Measured
from finetune_assets.devtools.near_duplicate_quality import Quality

from ..corpus_weeks import build_corpus
from ..seed import materialization_metadata


def test_the_floors_keep_what_the_corpus_keeps(postgres_server, tmp_path):
    url = postgres_server.create_database(f"corpus_bench_{uuid.uuid4().hex[:8]}")
    weeks = weeks_ending("2026-11-16", 4)
    register_weeks(url, tmp_path / "exports", tmp_path / "staging", week_tables(weeks, 400))
    files = sorted((tmp_path / "exports").glob("*/finetune-*.jsonl"))
    assert [path.parent.name for path in files] == weeks
    floor = corpus_floor(files, tmp_path / "floor.jsonl", runs=1)

    from finetune_assets.dagster_defs.resources import CorpusPolicy

    result = build_corpus(url, tmp_path / "exports", corpus_policy=CorpusPolicy(cluster_keep=0))
    metadata = materialization_metadata(result, "training_corpus")
    assert metadata["exact_duplicates"] > 0  # one pair in twenty repeats an earlier week's
    assert floor.lines == metadata["kept"] == 1600 - metadata["exact_duplicates"]

    near = build_corpus(url, tmp_path / "exports")
    near_metadata = materialization_metadata(near, "training_corpus")
    assert near_metadata["near_duplicates"] > 0  # the templates recur, edited pairs come back
    # The rensa script flags by shared bands alone, pairs within a week included: it keeps fewer.
    rensa = rensa_floor(files, tmp_path / "rensa.jsonl", 0.85, runs=1)
    assert 0 < rensa.lines <= near_metadata["kept"] < floor.lines


def _run(seconds: float, peak_mib: int = 500) -> CorpusRun:
    return CorpusRun(Measured(seconds, peak_mib * 2**20, 0, ""), "corpus-x", 10)


def test_each_corpus_target_is_judged_from_the_figures():
    floors = CorpusFloor(10.0, 9), CorpusFloor(20.0, 5)
    good = Quality(100, 100, 100, 99, 0, 500)
    met = CorpusResult(52, 20_000, *floors, _run(29.9), _run(14.9), _run(4.4), 900 * 2**20, good)
    assert [ok for _, ok in met.verdicts()] == [True] * 5
    poor = Quality(100, 98, 100, 100, 0, 500)
    missed = CorpusResult(52, 20_000, *floors, _run(30.1), _run(15.1), _run(4.6), 1000 * 2**20, poor)
    assert [ok for _, ok in missed.verdicts()] == [False] * 5
    leaky = CorpusResult(52, 20_000, *floors, _run(29.9), _run(14.9), _run(4.4), 900 * 2**20, replace(good, leaks=1))
    assert [ok for _, ok in leaky.verdicts()] == [True] * 4 + [False]
    assert "| full build, near duplicates on | 30.10 | 3.01 |" in table(missed)
    assert "precision 98.00%" in table(missed)
    assert all(what.startswith("52 weeks: ") for what, _ in met.verdicts())


def test_a_week_added_is_flat_when_it_grows_by_half_at_most_from_the_fewest_weeks():
    floors = CorpusFloor(10.0, 9), CorpusFloor(20.0, 5)
    quality = Quality(100, 100, 100, 100, 0, 500)

    def at(weeks: int, added: float) -> CorpusResult:
        return CorpusResult(weeks, 20_000, *floors, _run(29.9), _run(14.9), _run(added), 900 * 2**20, quality)

    assert flatness([at(52, 9.0)]) == []
    [(what, met)] = flatness([at(104, 6.0), at(13, 4.0), at(52, 5.0)])
    assert met and "1.50 x from 13 to 104 weeks" in what and what.index("13 weeks") < what.index("104 weeks")
    [(_, met)] = flatness([at(13, 4.0), at(104, 6.01)])
    assert not met


@pytest.mark.e2e
def test_the_documented_corpus_command_prints_the_table_and_the_verdicts():
    command = [sys.executable, "-m", "finetune_assets.devtools.benchmark", "--corpus", "--weeks", "2,3"]
    output = subprocess.run([*command, "--pairs", "300", "--runs", "1"], capture_output=True, text=True, timeout=900)
    assert output.returncode in (0, 1), output.stderr[-3000:]
    lines = output.stdout.splitlines()
    assert lines[0].startswith("2 registered weeks x 300 pairs")
    assert any(line.startswith("3 registered weeks x 300 pairs") for line in lines)
    assert sum(line.startswith("| one week added to the corpus |") for line in lines) == 2
    verdict_lines = lines[lines.index("targets:") + 1 :]
    assert len(verdict_lines) == 2 * 5 + 1 and "x from 2 to 3 weeks" in verdict_lines[-1]
    assert output.returncode == (1 if any("MISSED" in line for line in verdict_lines) else 0)
