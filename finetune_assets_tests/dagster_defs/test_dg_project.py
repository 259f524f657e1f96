"""Dagster's own tools read the project: `dg` loads and lists it, a scaffolded asset file joins the
location without touching another file, and the asset specs are held to a reviewed snapshot."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from finetune_assets.definitions import build_definitions

REPOSITORY = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("asset_specs.json")


def _dg(*args: str, cwd: Path, pythonpath: Path, home: Path) -> subprocess.CompletedProcess:
    dg = Path(sys.executable).with_name("dg")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONPATH": str(pythonpath),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    return subprocess.run(
        [str(dg if dg.exists() else "dg"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(REPOSITORY / "pyproject.toml", copy)
    shutil.copytree(
        REPOSITORY / "finetune_assets", copy / "finetune_assets", ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def _tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _asset_keys(listed: subprocess.CompletedProcess) -> set[str]:
    assert listed.returncode == 0, listed.stderr[-3000:]
    return {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}


def test_dg_checks_and_lists_the_project(tmp_path):
    checked = _dg("check", "defs", cwd=REPOSITORY, pythonpath=REPOSITORY, home=tmp_path)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = json.loads(_dg("list", "defs", "--json", cwd=REPOSITORY, pythonpath=REPOSITORY, home=tmp_path).stdout)
    assert {job["name"] for job in listed["jobs"]} == {"weekly_finetune_export", "training_corpus_job"}
    assert {schedule["name"] for schedule in listed["schedules"]} == {"weekly_finetune_export_schedule"}
    assert {asset["asset_key"] for asset in listed["assets"]} == set(json.loads(SNAPSHOT.read_text()))


def test_a_scaffolded_asset_file_is_loaded_without_touching_another_file(tmp_path):
    project = _project_copy(tmp_path)
    before = _tree(project)
    assert "holdout_stats" not in _asset_keys(
        _dg("list", "defs", "--json", cwd=project, pythonpath=project, home=tmp_path)
    )
    scaffolded = _dg(
        "scaffold", "defs", "dagster.asset", "assets/holdout_stats.py", cwd=project, pythonpath=project, home=tmp_path
    )
    assert scaffolded.returncode == 0, scaffolded.stderr[-3000:]
    after = _tree(project)
    assert set(after) - set(before) == {"finetune_assets/defs/assets/holdout_stats.py"}
    assert {name: digest for name, digest in after.items() if name in before} == before
    keys = _asset_keys(_dg("list", "defs", "--json", cwd=project, pythonpath=project, home=tmp_path))
    assert keys == set(json.loads(SNAPSHOT.read_text())) | {"holdout_stats"}


def asset_specs() -> dict:
    """Each asset as a reviewer reads it: group, upstream, kinds, owners, partitions and checks."""
    graph = build_definitions({}).resolve_asset_graph()
    checks: dict[str, list] = {}
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        checks.setdefault(key.asset_key.to_user_string(), []).append(
            {"name": key.name, "blocking": spec.blocking, "partitioned": spec.partitions_def is not None}
        )
    specs = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        weeks = node.partitions_def
        specs[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "partitions": None
            if weeks is None
            else {
                "type": type(weeks).__name__,
                "first": weeks.get_first_partition_key(),
                "timezone": weeks.timezone,
                "cron": weeks.cron_schedule,
            },
            "checks": sorted(checks.get(key.to_user_string(), []), key=lambda check: check["name"]),
            "executable": node.is_executable,
        }
    return dict(sorted(specs.items()))


def test_the_asset_specs_are_the_reviewed_snapshot():
    # A change to an asset's key, group, deps, kinds, partitions or checks shows up here as a diff to
    # review; write the new snapshot with `python -m finetune_assets_tests.dagster_defs.test_dg_project`.
    assert asset_specs() == json.loads(SNAPSHOT.read_text())


if __name__ == "__main__":
    os.environ.pop("DAGSTER_HOME", None)
    SNAPSHOT.write_text(json.dumps(asset_specs(), indent=2, ensure_ascii=False) + "\n")
