"""The code location: every asset, job, schedule and resource, listed once."""

import json
import os

from dagster import Definitions, EnvVar, multiprocess_executor

from .assets.export import export_registry, jsonl_export
from .assets.extract import coordinator_decisions, repair_actions, successful_evidence
from .assets.sources import SOURCE_ASSETS
from .assets.transform import training_pairs
from .checks import ASSET_CHECKS
from .resources import AiopsDatabase, DatasetPolicy, ExportStorage
from .schedules import weekly_finetune_export_job, weekly_finetune_export_schedule


def _env_or_default(name: str) -> EnvVar | None:
    """EnvVar when the variable is set (its value is read only at run time, never logged), else the default."""
    return EnvVar(name) if os.environ.get(name) else None


# Dataset policy settings from the environment; none of them is a secret. Unset: the resource's default.
POLICY_ENVIRONMENT = {
    "formats": ("FINETUNE_FORMATS", lambda text: [name.strip() for name in text.split(",") if name.strip()]),
    "split_key": ("FINETUNE_SPLIT_KEY", str),
    "validation_fraction": ("FINETUNE_VALIDATION_FRACTION", float),
    "token_limit": ("FINETUNE_TOKEN_LIMIT", int),
    "mask_network": ("FINETUNE_MASK_NETWORK", lambda text: text.strip().lower() in ("1", "true", "yes")),
    "extra_redaction_patterns": ("FINETUNE_REDACTION_PATTERNS", json.loads),
}


def dataset_policy_from_environment() -> DatasetPolicy:
    settings = {
        field: parse(os.environ[variable]) for field, (variable, parse) in POLICY_ENVIRONMENT.items() if os.environ.get(variable)
    }
    return DatasetPolicy(**settings)


def build_resources() -> dict:
    database_url = _env_or_default("AIOPS_DATABASE_URL")
    export_path = _env_or_default("FINETUNE_EXPORT_PATH")
    return {
        "aiops_db": AiopsDatabase(url=database_url) if database_url else AiopsDatabase(),
        "export_storage": ExportStorage(export_path=export_path) if export_path else ExportStorage(),
        "dataset_policy": dataset_policy_from_environment(),
    }


LINEAGE_ASSETS = [
    successful_evidence,
    coordinator_decisions,
    repair_actions,
    training_pairs,
    jsonl_export,
    export_registry,
]

# Steps run in their own processes (a crash or leak stays in its step), forked from a server that has
# already imported Dagster and this package, so a step starts in a fraction of a second.
EXECUTOR = multiprocess_executor.configured(
    {"max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": ["finetune_assets"]}}}
)

defs = Definitions(
    assets=[*SOURCE_ASSETS, *LINEAGE_ASSETS],
    asset_checks=ASSET_CHECKS,
    jobs=[weekly_finetune_export_job],
    schedules=[weekly_finetune_export_schedule],
    resources=build_resources(),
    executor=EXECUTOR,
)
