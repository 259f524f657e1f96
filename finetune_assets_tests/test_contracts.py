"""The package's shape, as a machine checks it: the layers' import contracts hold, and would catch a
breach; importing a module builds nothing, reads no setting and leaves Arrow's allocator alone."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .newcomer import REPOSITORY

RUNTIME_LAYERS = ("core", "io", "db", "dagster_defs", "defs", "definitions", "cli")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint if lint.exists() else "lint-imports"), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_keep_their_contracts():
    done = _lint_imports(REPOSITORY)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 5 kept, 0 broken." in done.stdout


def test_a_core_module_that_imports_dagster_breaks_a_contract(tmp_path):
    shutil.copytree(
        REPOSITORY / "finetune_assets", tmp_path / "finetune_assets", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPOSITORY / "pyproject.toml", tmp_path / "pyproject.toml")
    pairs = tmp_path / "finetune_assets" / "core" / "pairs.py"
    pairs.write_text(pairs.read_text() + "\nimport dagster  # noqa\nfrom ..io import store  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "core is pure: no Dagster, no database, no files BROKEN" in done.stdout
    assert "Each layer imports only the layers below it BROKEN" in done.stdout


IMPORT_EVERYTHING = """
import importlib, os, pkgutil, sys
import pyarrow as pa

class Watched(dict):
    def __getitem__(self, key):
        read.append(key)
        return super().__getitem__(key)
    def get(self, key, default=None):
        read.append(key)
        return super().get(key, default)
    def __contains__(self, key):
        read.append(key)
        return super().__contains__(key)

read = []
pool = pa.default_memory_pool().backend_name
import finetune_assets
watched = Watched(os.environ)
os.environ = watched
names = []
for layer in {layers!r}:
    package = importlib.import_module(f"finetune_assets.{{layer}}")
    names.append(package.__name__)
    for module in pkgutil.walk_packages(getattr(package, "__path__", []), f"finetune_assets.{{layer}}."):
        importlib.import_module(module.name)
        names.append(module.name)
ours = sorted({{key for key in read if key.startswith(("FINETUNE_", "AIOPS_", "DAGSTER_PG"))}})
import json
print(json.dumps({{"modules": names, "read": ours, "pool": [pool, pa.default_memory_pool().backend_name]}}))
"""


def test_importing_every_runtime_module_reads_no_setting_and_changes_nothing(tmp_path):
    code = IMPORT_EVERYTHING.format(layers=RUNTIME_LAYERS)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FINETUNE_PARTITIONS_START_DATE": "2026-03-02",
        "AIOPS_P3_FINETUNE_EXPORT": "true",
        "FINETUNE_EXECUTOR": "k8s",
        "PYTHONPATH": str(REPOSITORY),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert "finetune_assets.definitions" in result["modules"] and len(result["modules"]) > 40
    assert result["read"] == []
    before, after = result["pool"]
    assert before == after


def test_importing_the_package_or_its_core_imports_no_dagster_and_no_database(tmp_path):
    code = (
        "import sys, finetune_assets, finetune_assets.core.join, finetune_assets.core.export_report; "
        "print(sorted(m for m in ('dagster', 'sqlalchemy', 'psycopg', 'fsspec') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(REPOSITORY)}, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stderr
