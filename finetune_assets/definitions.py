"""The code location: every asset, job, schedule and resource, listed once."""

import json
import os
import warnings

from dagster import Definitions, EnvVar, PreviewWarning, multiprocess_executor

# Dagster 1.13 marks a partitions_def on an asset check as a preview (PreviewWarning, raised while the
# checks below are defined). The weekly checks need it, knowingly; a user should not see it every run.
warnings.filterwarnings("ignore", category=PreviewWarning, message="Specifying a partitions_def on an AssetCheckSpec")

from .assets.export import export_registry, jsonl_export
from .assets.extract import coordinator_decisions, repair_actions, successful_evidence
from .assets.sources import SOURCE_ASSETS
from .assets.transform import training_pairs
from .checks import ASSET_CHECKS
from .resources import AiopsDatabase, DatasetPolicy, ExportStorage
from .schedules import weekly_finetune_export_job, weekly_finetune_export_schedule


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


# Object-store settings; the credentials are secrets, so every value goes through EnvVar.
STORAGE_ENVIRONMENT = {
    "export_path": "FINETUNE_EXPORT_PATH",
    "staging_path": "FINETUNE_STAGING_PATH",
    "s3_endpoint_url": "FINETUNE_S3_ENDPOINT_URL",
    "s3_region": "FINETUNE_S3_REGION",
    "s3_access_key_id": "AWS_ACCESS_KEY_ID",
    "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
}


def _set(fields: dict[str, str]) -> dict[str, EnvVar]:
    """EnvVar for each variable that is set (its value is read only at run time, never logged);
    an unset one leaves the resource's default."""
    return {field: EnvVar(variable) for field, variable in fields.items() if os.environ.get(variable)}


def build_resources() -> dict:
    return {
        "aiops_db": AiopsDatabase(**_set({"url": "AIOPS_DATABASE_URL"})),
        "export_storage": ExportStorage(**_set(STORAGE_ENVIRONMENT)),
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
# already imported Dagster and this package, so a step starts in a fraction of a second. The other
# modules are what every step process would otherwise import on its own (measured with
# PYTHONPROFILEIMPORTTIME: the step launcher's CLI helpers, the instance storage and psycopg). Not
# pandas, which Arrow's Parquet writer loads in four steps: held by the server too, it would add its
# ~70 MB to the run's peak memory for 0.15 s a step.
PRELOADED_MODULES = ["finetune_assets", "dagster._cli", "dagster._core.storage.base_storage", "psycopg"]
MULTIPROCESS = multiprocess_executor.configured(
    {"max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": PRELOADED_MODULES}}}
)


def build_executor():
    """FINETUNE_EXECUTOR=k8s runs each step in a Kubernetes Job of its own (dagster-k8s must be
    installed, and the export path must be an object store every pod can reach)."""
    if os.environ.get("FINETUNE_EXECUTOR", "multiprocess") == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured({"max_concurrent": 4})
    return MULTIPROCESS

defs = Definitions(
    assets=[*SOURCE_ASSETS, *LINEAGE_ASSETS],
    asset_checks=ASSET_CHECKS,
    jobs=[weekly_finetune_export_job],
    schedules=[weekly_finetune_export_schedule],
    resources=build_resources(),
    executor=build_executor(),
)
