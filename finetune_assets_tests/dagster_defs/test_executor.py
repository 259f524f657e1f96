"""The executor: every step in a process of its own, forked from a server that preloaded what steps need."""

import importlib

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
