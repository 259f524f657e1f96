"""Generated credentials and the hand forms, batched into two weeks of a PostgreSQL source and run
through the documented CLI, then the corpus: no value reaches the export tree (the corpus included),
an audit row, the instance's event log or the command's output, and both weeks are registered."""

import json
import os
import random
import subprocess

import pytest

from ..core.credentials.test_commands import FORMS as COMMAND_FORMS
from ..core.credentials.test_keyed import FORMS as KEYED_FORMS
from ..core.credentials.test_structures import FORMS as STRUCTURE_FORMS
from ..credential_cases import draw, leaked
from ..seed import WEEK, Week, at, audit_rows

pytestmark = pytest.mark.e2e

GENERATED_PER_WEEK = 300
SECOND_WEEK = "2026-11-16"
CORPUS_COMMAND = ["dagster", "asset", "materialize", "-m", "finetune_assets.definitions", "--select", "training_corpus"]
COMMAND = ["dagster", "asset", "materialize", "-m", "finetune_assets.definitions", "--select", "successful_evidence*"]


def _place(week: Week, n: int, text: str, bare: str, position: str, offset_days: int) -> None:
    """One incident: ``text`` at ``position``, ``bare`` (the value alone) in another of its texts."""
    incident = f"INC-{offset_days}-{n:04d}"
    texts = {
        "summary": f"disk 93% on worker-{n % 7}",
        "reasoning": f"rotate the logs (case {n})",
        "step": "restart log-agent",
        "label": f"DiskPressure{n % 5}",
    }
    texts[position] = text
    other = "reasoning" if position != "reasoning" else "summary"
    texts[other] = f"{texts[other]}; the leaked {bare} was rotated"
    when = at(days=offset_days + 1, minutes=n)
    week.incident(incident, {"alertname": f"Alert{n % 9}", "note": texts["label"]})
    week.evidence(incident, texts["summary"], when)
    week.session(incident, {"reasoning": texts["reasoning"]}, when)
    week.execution(incident, [{"action": texts["step"]}], when)


def test_no_generated_or_hand_written_credential_reaches_anything_a_run_leaves(postgres_url, tmp_path):
    rng = random.Random(20261205)
    week, cores = Week(postgres_url), []
    for offset_days in (0, 7):
        for n in range(GENERATED_PER_WEEK):
            case = draw(rng)
            _place(week, n, case.text, case.raw, case.position, offset_days)
            cores.append(case.core)
    forms = [*KEYED_FORMS, *STRUCTURE_FORMS, *COMMAND_FORMS]
    for n, form in enumerate(forms):
        _place(week, 1000 + n, form.text, form.value, ("summary", "reasoning", "step", "label")[n % 4], 0)
    week.save()

    home, exports = tmp_path / "dagster_home", tmp_path / "exports"
    home.mkdir()
    env = {**os.environ, "AIOPS_DATABASE_URL": postgres_url, "FINETUNE_EXPORT_PATH": str(exports)}
    env["DAGSTER_HOME"] = str(home)
    outputs = []
    for partition in (WEEK, SECOND_WEEK):
        run = subprocess.run(
            [*COMMAND, "--partition", partition], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-3000:]
        outputs.append(run.stdout + run.stderr)
    corpus = subprocess.run(CORPUS_COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert corpus.returncode == 0, corpus.stderr[-3000:]
    outputs.append(corpus.stdout + corpus.stderr)
    assert list((exports / "corpus").glob("corpus-*/alpaca.train/*.jsonl"))

    rows = audit_rows(postgres_url, export_type=None)  # the weeks' and the corpus's
    weekly = [row for row in rows if "partition_key" in row["metadata"]]
    assert {row["metadata"]["partition_key"] for row in weekly} == {WEEK, SECOND_WEEK}
    assert len(weekly) < len(rows)  # the corpus registered its files too
    withheld = sum(len(row["metadata"]["withheld"]) for row in audit_rows(postgres_url))
    assert withheld <= 0.01 * (2 * GENERATED_PER_WEEK + len(forms))  # nothing near the week's limit

    written = {str(path): path.read_bytes().decode("utf-8") for path in exports.rglob("*") if path.is_file()}
    places = {
        **written,
        "audit rows": json.dumps(rows, default=str, ensure_ascii=False),
        "command output": "\n".join(outputs),
        **{str(path): path.read_bytes().decode("utf-8", "replace") for path in home.rglob("*") if path.is_file()},
    }
    survived = [(core, where) for core in cores for where, text in places.items() if leaked(core, text)]
    assert survived == []
    everything = "\n".join(places.values())
    survived_forms = [form.name for form in forms if form.value in everything]
    assert survived_forms == []
    assert len(written) >= 2 * 3  # snapshot, trainer file and card for each week at least
