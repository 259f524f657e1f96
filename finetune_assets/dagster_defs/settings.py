"""The environment, read once when the code location builds its definitions: which variable sets
which field, and the few things no single resource can check (the executor's needs of the store).

What a field accepts is its type's to say (``setting_types``): the text of each variable is handed to
the resource it sets, so a variable and a launchpad value are checked by the same code. Every wrong
setting is reported at once, before any work, each naming its variable, its value (unless it is a
secret) and what is accepted. Secrets reach the resources only as ``EnvVar``s, read at run time and
never shown in the UI.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from dagster import ConfigurableResource, EnvVar
from pydantic import BaseModel, ConfigDict, ValidationError

from .resources import AiopsDatabase, CorpusPolicy, DatasetPolicy, ExportStorage
from .setting_types import NOT_USABLE, DeclaredStart, Executor, Flag
from .staged_io import STAGED_IO, StagedParquetIOManager

FEATURE_FLAG = "AIOPS_P3_FINETUNE_EXPORT"
SECRETS = {"AIOPS_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"}


class ConfigurationError(ValueError):
    """One or more settings are wrong; the message lists each, one per line."""


class Location(BaseModel):
    """What the environment decides about the code location itself rather than a resource."""

    model_config = ConfigDict(hide_input_in_errors=True)

    schedule_running: Flag = False
    executor: Executor = "in_process"
    partitions_start_date: DeclaredStart | None = None


LOCATION = "location"
# variable -> (what it sets, the field). Each resource is built from its variables' text.
VARIABLES: dict[str, tuple[str, str]] = {
    FEATURE_FLAG: (LOCATION, "schedule_running"),
    "FINETUNE_EXECUTOR": (LOCATION, "executor"),
    "FINETUNE_PARTITIONS_START_DATE": (LOCATION, "partitions_start_date"),
    "AIOPS_DATABASE_URL": ("aiops_db", "url"),
    "FINETUNE_DB_CONNECT_TIMEOUT": ("aiops_db", "connect_timeout"),
    "FINETUNE_DB_LOCK_TIMEOUT": ("aiops_db", "lock_timeout"),
    "FINETUNE_DB_STATEMENT_TIMEOUT": ("aiops_db", "statement_timeout"),
    "FINETUNE_EXPORT_PATH": ("export_storage", "export_path"),
    "FINETUNE_STAGING_PATH": ("export_storage", "staging_path"),
    "FINETUNE_S3_ENDPOINT_URL": ("export_storage", "s3_endpoint_url"),
    "FINETUNE_S3_REGION": ("export_storage", "s3_region"),
    "AWS_ACCESS_KEY_ID": ("export_storage", "s3_access_key_id"),
    "AWS_SECRET_ACCESS_KEY": ("export_storage", "s3_secret_access_key"),
    "FINETUNE_STAGING_RETENTION": (STAGED_IO, "retention_days"),
    "FINETUNE_FORMATS": ("dataset_policy", "formats"),
    "FINETUNE_SPLIT_KEY": ("dataset_policy", "split_key"),
    "FINETUNE_VALIDATION_FRACTION": ("dataset_policy", "validation_fraction"),
    "FINETUNE_TOKEN_LIMIT": ("dataset_policy", "token_limit"),
    "FINETUNE_MASK_NETWORK": ("dataset_policy", "mask_network"),
    "FINETUNE_REDACTION_PATTERNS": ("dataset_policy", "extra_redaction_patterns"),
    "FINETUNE_QUARANTINE_LIMIT": ("dataset_policy", "quarantine_limit"),
    "FINETUNE_CORPUS_WEEKS": ("corpus_policy", "weeks"),
    "FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD": ("corpus_policy", "near_duplicate_threshold"),
    "FINETUNE_CORPUS_CLUSTER_KEEP": ("corpus_policy", "cluster_keep"),
    "FINETUNE_WEEK_HEALTH_FACTOR": ("corpus_policy", "health_factor"),
}
# Built in this order: the IO manager shares the storage built before it.
MODELS: dict[str, type[BaseModel]] = {
    LOCATION: Location,
    "aiops_db": AiopsDatabase,
    "export_storage": ExportStorage,
    STAGED_IO: StagedParquetIOManager,
    "dataset_policy": DatasetPolicy,
    "corpus_policy": CorpusPolicy,
}


@dataclass(frozen=True)
class Settings:
    location: Location = field(default_factory=Location)
    resources_by_key: dict[str, ConfigurableResource] = field(default_factory=dict)

    @property
    def schedule_running(self) -> bool:
        return self.location.schedule_running

    @property
    def executor(self) -> str:
        return self.location.executor

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Settings":
        problems: list[str] = []
        texts: dict[str, dict[str, str]] = {target: {} for target in MODELS}
        for variable, (target, name) in VARIABLES.items():
            if (text := environ.get(variable)) is None:
                continue
            if not text.strip():
                problems.append(f"{variable} is set but empty: give it a value, or unset it for the default")
            else:
                texts[target][name] = text if variable in SECRETS else text.strip()
        checked: dict[str, BaseModel] = {}
        for target, model in MODELS.items():
            shared = {"export_storage": checked["export_storage"]} if target == STAGED_IO else {}
            try:
                checked[target] = model(**texts[target], **shared)
            except ValidationError as error:
                problems.extend(_explained(target, error, environ))
                checked[target] = model(**shared)
        staging = texts["export_storage"].get("staging_path", "").strip()
        if checked[LOCATION].executor == "k8s" and not staging.startswith(("s3://", "s3a://")):
            problems.append(
                "FINETUNE_EXECUTOR=k8s runs every step in a pod of its own: FINETUNE_STAGING_PATH must be an object "
                "store all pods reach (s3://bucket/prefix, outside the export path)"
            )
        if problems:
            raise ConfigurationError(
                f"{len(problems)} setting(s) of the finetune_assets code location are wrong:\n- "
                + "\n- ".join(problems)
            )
        return cls(checked[LOCATION], _resources(checked, texts))

    def resources(self) -> dict[str, ConfigurableResource]:
        return dict(self.resources_by_key)


def _explained(target: str, error: ValidationError, environ: Mapping[str, str]) -> list[str]:
    """Each error as the user set it: by variable, with its value unless that is a secret."""
    variables = {name: variable for variable, (where, name) in VARIABLES.items() if where == target}
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        if not problem["loc"]:  # a check across fields: its message names the variables itself
            lines.append(problem["msg"])
            continue
        variable = variables[problem["loc"][0]]
        if problem["type"] == NOT_USABLE:
            # The message says what is wrong in words of its own; a secret's never repeat it.
            lines.append(f"{variable} {problem['msg']}" if variable in SECRETS else f"{variable}: {problem['msg']}")
        else:
            shown = "(not shown)" if variable in SECRETS else repr(environ[variable])
            lines.append(f"{variable}={shown} is not valid: {problem['msg']}")
    return lines


def _resources(checked: dict[str, BaseModel], texts: dict[str, dict[str, str]]) -> dict[str, ConfigurableResource]:
    """The resources with the checked values of the variables that were set, each secret as its
    EnvVar: read when a run starts (and checked again then), so neither the UI nor a run's config
    ever holds it."""
    resources: dict[str, ConfigurableResource] = {}
    for key, model in MODELS.items():
        if key == LOCATION:
            continue
        values = {name: getattr(checked[key], name) for name in texts[key]}
        values |= {
            name: EnvVar(variable)
            for variable, (target, name) in VARIABLES.items()
            if target == key and variable in SECRETS and name in values
        }
        if key == STAGED_IO:
            values["export_storage"] = resources["export_storage"]
        resources[key] = model(**values)
    return resources
