"""The environment, read once and checked, when the code location builds its definitions: which
partitions, whether the schedule runs, which executor, and what the resources are given.

Every wrong setting is reported at once, before any work, each naming its variable, its value (unless
it is a secret) and what is accepted. Secrets reach the resources only as ``EnvVar``s, read at run
time and never shown in the UI.
"""

import json
import math
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dagster import EnvVar

from ..db.connection import TIMEOUT_ACCEPTED, timeout_problem, url_problem
from .executor import EXECUTORS
from .partitions import START_DATE
from .resources import AiopsDatabase, CorpusPolicy, DatasetPolicy, ExportStorage
from .staged_io import STAGED_IO, StagedParquetIOManager

FEATURE_FLAG = "AIOPS_P3_FINETUNE_EXPORT"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
SECRETS = {"AIOPS_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"}


class ConfigurationError(ValueError):
    """One or more settings are wrong; the message lists each, one per line."""


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"accepted: {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}")


# ASCII digits only: int() and float() also take "٣", "1_000", "inf" and "nan".
WHOLE = re.compile(r"[0-9]+")
DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str, kind: type, fits: Callable[[float], bool], accepted: str):
    text = text.strip()
    if not (WHOLE if kind is int else DECIMAL).fullmatch(text):
        raise ValueError(f"accepted: {accepted}")
    value = kind(text)
    if not math.isfinite(value) or not fits(value):
        raise ValueError(f"accepted: {accepted}")
    return value


def _fraction(text: str) -> float:
    return _number(text, float, lambda value: 0 <= value <= 1, "a number from 0 to 1, such as 0.1")


def _positive_int(text: str) -> int:
    return _number(text, int, lambda value: value > 0, "a whole number above 0, such as 16385")


def _count(text: str) -> int:
    return _number(text, int, lambda value: value >= 0, "a whole number, 0 or above, such as 3")


def _threshold(text: str) -> float:
    return _number(text, float, lambda value: 0 < value <= 1, "a number above 0 and at most 1, such as 0.85")


def _factor(text: str) -> float:
    return _number(text, float, lambda value: value > 1, "a number above 1, such as 2")


def _seconds(text: str) -> float:
    return _number(text, float, lambda value: timeout_problem(value) is None, TIMEOUT_ACCEPTED)


def _days(text: str) -> float:
    return _number(text, float, lambda value: value >= 0, "a number of days, 0 or above, such as 7 or 0.5")


def _declared_start(text: str) -> str:
    """The partitions are declared in code as their modules are imported, before any setting is read,
    so a different first week cannot come from here; a deployment that still sets it hears so."""
    if text.strip() != START_DATE:
        raise ValueError(
            f"the first week is declared in code (START_DATE in finetune_assets/dagster_defs/partitions.py, "
            f"{START_DATE}): unset it, or change START_DATE there"
        )
    return START_DATE


def _formats(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _patterns(text: str) -> dict[str, str]:
    accepted = 'accepted: a JSON object of names to RE2 patterns, such as {"employee_id": "E\\\\d{6}"}'
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(accepted) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(accepted)
    return value


def _executor(text: str) -> str:
    if text.strip() not in EXECUTORS:
        raise ValueError(f"accepted: {', '.join(EXECUTORS)}")
    return text.strip()


def _path(text: str) -> str:
    if not text.strip():
        raise ValueError("accepted: a folder or s3://bucket/prefix")
    return text.strip()


# Dataset policy fields: variable, then how its text becomes the field's value.
POLICY_ENVIRONMENT: dict[str, tuple[str, Callable[[str], object]]] = {
    "formats": ("FINETUNE_FORMATS", _formats),
    "split_key": ("FINETUNE_SPLIT_KEY", str.strip),
    "validation_fraction": ("FINETUNE_VALIDATION_FRACTION", _fraction),
    "token_limit": ("FINETUNE_TOKEN_LIMIT", _positive_int),
    "mask_network": ("FINETUNE_MASK_NETWORK", _boolean),
    "extra_redaction_patterns": ("FINETUNE_REDACTION_PATTERNS", _patterns),
    "quarantine_limit": ("FINETUNE_QUARANTINE_LIMIT", _fraction),
}
DATABASE_ENVIRONMENT = {
    "connect_timeout": ("FINETUNE_DB_CONNECT_TIMEOUT", _seconds),
    "lock_timeout": ("FINETUNE_DB_LOCK_TIMEOUT", _seconds),
    "statement_timeout": ("FINETUNE_DB_STATEMENT_TIMEOUT", _seconds),
}
CORPUS_ENVIRONMENT = {
    "weeks": ("FINETUNE_CORPUS_WEEKS", _positive_int),
    "near_duplicate_threshold": ("FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD", _threshold),
    "cluster_keep": ("FINETUNE_CORPUS_CLUSTER_KEEP", _count),
    "health_factor": ("FINETUNE_WEEK_HEALTH_FACTOR", _factor),
}
# Object-store settings reach the resource as EnvVars: the credentials are secrets.
STORAGE_ENVIRONMENT = {
    "export_path": "FINETUNE_EXPORT_PATH",
    "staging_path": "FINETUNE_STAGING_PATH",
    "s3_endpoint_url": "FINETUNE_S3_ENDPOINT_URL",
    "s3_region": "FINETUNE_S3_REGION",
    "s3_access_key_id": "AWS_ACCESS_KEY_ID",
    "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
}


@dataclass(frozen=True)
class Settings:
    schedule_running: bool = False
    executor: str = "in_process"
    uses_demo_database: bool = True
    database: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)
    storage: dict = field(default_factory=dict)  # resource field -> variable, for the ones that are set
    corpus: dict = field(default_factory=dict)
    staged_io: dict = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Settings":
        problems: list[str] = []

        def read(variable: str, parse: Callable[[str], object], default=None):
            text = environ.get(variable)
            if text is None:
                return default
            shown = "(not shown)" if variable in SECRETS else repr(text)
            if not text.strip():
                problems.append(f"{variable} is set but empty: give it a value, or unset it for the default")
                return default
            try:
                return parse(text)
            except ValueError as error:
                problems.append(f"{variable}={shown} is not valid: {error}")
                return default

        read("FINETUNE_PARTITIONS_START_DATE", _declared_start)
        running = read(FEATURE_FLAG, _boolean, False)
        executor = read("FINETUNE_EXECUTOR", _executor, "in_process")
        database = {
            name: value
            for name, (var, parse) in DATABASE_ENVIRONMENT.items()
            if (value := read(var, parse)) is not None
        }
        policy = {
            name: value for name, (var, parse) in POLICY_ENVIRONMENT.items() if (value := read(var, parse)) is not None
        }
        corpus = {
            name: value for name, (var, parse) in CORPUS_ENVIRONMENT.items() if (value := read(var, parse)) is not None
        }
        retention = read("FINETUNE_STAGING_RETENTION", _days)
        staged_io = {} if retention is None else {"retention_days": retention}
        for variable in (
            "FINETUNE_EXPORT_PATH",
            "FINETUNE_STAGING_PATH",
            "FINETUNE_S3_ENDPOINT_URL",
            "FINETUNE_S3_REGION",
        ):
            read(variable, _path)
        url = environ.get("AIOPS_DATABASE_URL")
        if url is not None and (problem := url_problem(url)):
            problems.append(f"AIOPS_DATABASE_URL {problem} (its value is not shown); unset it to use the demo database")
        problems += _policy_problems(policy) + _storage_problems(environ, executor)
        if problems:
            raise ConfigurationError(
                f"{len(problems)} setting(s) of the finetune_assets code location are wrong:\n- "
                + "\n- ".join(problems)
            )
        storage = {name: variable for name, variable in STORAGE_ENVIRONMENT.items() if environ.get(variable)}
        return cls(running, executor, url is None, database, policy, storage, corpus, staged_io)

    def resources(self) -> dict:
        url = {} if self.uses_demo_database else {"url": EnvVar("AIOPS_DATABASE_URL")}
        storage = ExportStorage(**{name: EnvVar(variable) for name, variable in self.storage.items()})
        return {
            "aiops_db": AiopsDatabase(**url, **self.database),
            "export_storage": storage,
            STAGED_IO: StagedParquetIOManager(export_storage=storage, **self.staged_io),
            "dataset_policy": DatasetPolicy(**self.policy),
            "corpus_policy": CorpusPolicy(**self.corpus),
        }


def _policy_problems(policy: dict) -> list[str]:
    """What the dataset policy itself finds wrong (unknown formats, split keys, patterns), by variable."""
    return [f"{POLICY_ENVIRONMENT[name][0]}: {what}" for name, what in DatasetPolicy(**policy).problems()]


def _storage_problems(environ: Mapping[str, str], executor: str) -> list[str]:
    exports = environ.get("FINETUNE_EXPORT_PATH") or str(ExportStorage().export_path)
    staging = environ.get("FINETUNE_STAGING_PATH")
    problems = []
    if staging and _inside(staging, exports):
        problems.append(
            f"FINETUNE_STAGING_PATH={staging!r} is inside FINETUNE_EXPORT_PATH={exports!r}, the tree trainers read: "
            "staged files hold source text; choose a folder or prefix outside it"
        )
    if executor == "k8s" and not (staging or "").startswith(("s3://", "s3a://")):
        problems.append(
            "FINETUNE_EXECUTOR=k8s runs every step in a pod of its own: FINETUNE_STAGING_PATH must be an object "
            "store all pods reach (s3://bucket/prefix, outside the export path)"
        )
    if bool(environ.get("AWS_ACCESS_KEY_ID")) != bool(environ.get("AWS_SECRET_ACCESS_KEY")):
        problems.append(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither for the AWS chain"
        )
    return problems


# Schemes that name the same place: a local file, or an S3 object (Hadoop's s3a/s3n spellings).
SAME_PLACE = {"file": "local", "local": "local", "s3": "s3", "s3a": "s3", "s3n": "s3"}


def _location(text: str) -> tuple[str, PurePosixPath]:
    """(where, path) with the scheme's spelling, double slashes, '.' and '..' normalised away."""
    scheme, separator, rest = text.strip().partition("://")
    if not separator:
        scheme, rest = "local", text.strip()
    where = SAME_PLACE.get(scheme.lower(), scheme.lower())
    if where == "local":
        return where, PurePosixPath(Path(rest).expanduser().resolve())
    return where, PurePosixPath(posixpath.normpath("/" + rest))


def _inside(path: str, folder: str) -> bool:
    (path_place, inner), (folder_place, outer) = _location(path), _location(folder)
    return path_place == folder_place and inner.is_relative_to(outer)
