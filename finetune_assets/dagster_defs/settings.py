"""The environment, read once, when the code location builds its definitions: which partitions,
whether the schedule runs, which executor, and what the resources are given. Secrets reach the
resources only as ``EnvVar``s, read at run time and never shown in the UI."""

import json
from collections.abc import Mapping

from dagster import EnvVar

from .partitions import DEFAULT_START_DATE
from .resources import AiopsDatabase, DatasetPolicy, ExportStorage

FEATURE_FLAG = "AIOPS_P3_FINETUNE_EXPORT"
TRUE_WORDS = {"1", "true", "yes", "on"}

# Dataset policy settings from the environment; none of them is a secret. Unset: the resource's default.
POLICY_ENVIRONMENT = {
    "formats": ("FINETUNE_FORMATS", lambda text: [name.strip() for name in text.split(",") if name.strip()]),
    "split_key": ("FINETUNE_SPLIT_KEY", str),
    "validation_fraction": ("FINETUNE_VALIDATION_FRACTION", float),
    "token_limit": ("FINETUNE_TOKEN_LIMIT", int),
    "mask_network": ("FINETUNE_MASK_NETWORK", lambda text: text.strip().lower() in ("1", "true", "yes")),
    "extra_redaction_patterns": ("FINETUNE_REDACTION_PATTERNS", json.loads),
}
# Object-store settings; the credentials are secrets, so every value goes through EnvVar.
STORAGE_ENVIRONMENT = {
    "export_path": "FINETUNE_EXPORT_PATH",
    "staging_path": "FINETUNE_STAGING_PATH",
    "s3_endpoint_url": "FINETUNE_S3_ENDPOINT_URL",
    "s3_region": "FINETUNE_S3_REGION",
    "s3_access_key_id": "AWS_ACCESS_KEY_ID",
    "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
}


def partitions_start_date(environ: Mapping[str, str]) -> str:
    return environ.get("FINETUNE_PARTITIONS_START_DATE") or DEFAULT_START_DATE


def schedule_running(environ: Mapping[str, str]) -> bool:
    """The legacy feature flag decides whether the schedule starts running on deploy."""
    return environ.get(FEATURE_FLAG, "").strip().lower() in TRUE_WORDS


def executor_kind(environ: Mapping[str, str]) -> str:
    return environ.get("FINETUNE_EXECUTOR") or "multiprocess"


def dataset_policy(environ: Mapping[str, str]) -> DatasetPolicy:
    settings = {
        field: parse(environ[variable])
        for field, (variable, parse) in POLICY_ENVIRONMENT.items()
        if environ.get(variable)
    }
    return DatasetPolicy(**settings)


def _set(fields: dict[str, str], environ: Mapping[str, str]) -> dict[str, EnvVar]:
    """EnvVar for each variable that is set (its value is read only at run time, never logged);
    an unset one leaves the resource's default."""
    return {field: EnvVar(variable) for field, variable in fields.items() if environ.get(variable)}


def resources(environ: Mapping[str, str]) -> dict:
    return {
        "aiops_db": AiopsDatabase(**_set({"url": "AIOPS_DATABASE_URL"}, environ)),
        "export_storage": ExportStorage(**_set(STORAGE_ENVIRONMENT, environ)),
        "dataset_policy": dataset_policy(environ),
    }
