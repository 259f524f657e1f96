"""The executor: steps in the run's process by default; each in a process of its own, forked from a
server that preloaded what steps need, when asked."""

import importlib
import subprocess
import sys

import pyarrow as pa
import pytest
from dagster import build_init_resource_context

from finetune_assets.dagster_defs.executor import PRELOADED_MODULES
from finetune_assets.dagster_defs.resources import ExportStorage
from finetune_assets.io import arrow_memory


@pytest.mark.parametrize("module", PRELOADED_MODULES)
def test_every_preloaded_module_imports(module):
    # A Dagster upgrade that moves one of these would otherwise slow every step without a word.
    assert importlib.import_module(module).__name__ == module


def test_a_step_chooses_arrows_allocator_when_its_storage_starts(tmp_path):
    pa.set_memory_pool(pa.system_memory_pool())
    ExportStorage(export_path=str(tmp_path)).setup_for_execution(build_init_resource_context())
    assert pa.default_memory_pool().backend_name == arrow_memory.configure() == "jemalloc"


def _executor_of(environ: dict):
    from finetune_assets.definitions import build_definitions

    return build_definitions(environ).resolve_job_def("weekly_finetune_export").executor_def


def test_steps_run_in_the_runs_own_process_unless_told_otherwise(tmp_path):
    environ = {"FINETUNE_EXPORT_PATH": str(tmp_path / "exports")}
    assert _executor_of(environ).name == "in_process"
    multiprocess = _executor_of({**environ, "FINETUNE_EXECUTOR": "multiprocess"})
    assert multiprocess.name == "multiprocess"
    config = multiprocess.apply_config_mapping({}).value["config"]  # the forkserver and what it preloads
    assert config["start_method"]["forkserver"]["preload_modules"] == list(PRELOADED_MODULES)


def test_loading_the_code_location_compiles_no_built_in_rule(tmp_path):
    # Every process that loads the location (webserver, daemon, each run) would pay for it; only the
    # configured patterns need checking before any work.
    code = (
        "import sys; from finetune_assets.definitions import build_definitions; "
        "build_definitions({'FINETUNE_EXPORT_PATH': sys.argv[1], 'FINETUNE_REDACTION_PATTERNS': "
        "'{\"ticket\": \"TICKET-[0-9]{6}\"}'}); print('detect_secrets' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip() == "False"


def test_importing_every_runtime_module_compiles_no_rule():
    # What the forkserver preloads and any process that loads the location imports: an import only
    # declares; the redaction rules are compiled by the first step that needs them.
    code = (
        "import importlib, pkgutil, finetune_assets; from finetune_assets.core import redaction; "
        "names = [m.name for m in pkgutil.walk_packages(finetune_assets.__path__, 'finetune_assets.') "
        "if '.devtools' not in m.name]; [importlib.import_module(name) for name in names]; "
        "print(len(names), redaction.compiled_built_in_rules.cache_info().currsize)"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    modules, compiled = map(int, imported.stdout.split() or (0, -1))
    assert modules > 50 and compiled == 0, imported.stderr[-2000:]
