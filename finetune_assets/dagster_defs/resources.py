"""Resources: the AIOps database (read-only for sources), where exports are written, and the dataset policy."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, Failure, InitResourceContext
from pydantic import Field
from sqlalchemy import Connection

from ..core.line_formats import FORMATS
from ..core.redaction import RedactionPatternError, Redactor
from ..core.splits import SPLIT_KEYS
from ..db.connection import Database, PermanentDatabaseError
from ..db.demo_data import DEMO_DATABASE, DEMO_DIRECTORY
from ..io import arrow_memory
from ..io.store import Store

DEMO_EXPORTS = DEMO_DIRECTORY / "exports"


class AiopsDatabase(ConfigurableResource):
    """The AIOps database. Sources are read in read-only transactions; only ``finetune_exports`` is written."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+psycopg://…). Unset: the embedded SQLite demo database.",
    )
    demo_path: str = Field(default=str(DEMO_DATABASE), description="Where the embedded demo database lives.")

    def database(self) -> Database:
        return Database(self.url, Path(self.demo_path))

    def display_url(self) -> str:
        """The URL as it may appear in logs and metadata: never with its password."""
        return self.database().display_url()

    @contextmanager
    def read_only(self, action: str) -> Iterator[Connection]:
        with _as_failure(), self.database().read_only(action) as connection:
            yield connection

    @contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        with _as_failure(), self.database().transaction(action) as connection:
            yield connection


@contextmanager
def _as_failure() -> Iterator[None]:
    """A permanent database error fails the step at once; a transient one is left to the RetryPolicy."""
    try:
        yield
    except PermanentDatabaseError as error:
        raise Failure(description=str(error), allow_retries=False) from None


class ExportStorage(ConfigurableResource):
    """Where the weekly exports and the intermediate Parquet files are written: a local folder, or an
    S3-compatible bucket (AWS S3, MinIO) that every step of a run can reach from any host."""

    export_path: str = Field(
        default=str(DEMO_EXPORTS),
        description="FINETUNE_EXPORT_PATH: a folder, or s3://bucket/prefix; it receives one folder per week.",
    )
    staging_path: str | None = Field(
        default=None, description="Intermediate Parquet files; default: _staging under export_path."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="FINETUNE_S3_ENDPOINT_URL, for S3-compatible servers such as MinIO."
    )
    s3_region: str | None = Field(default=None, description="FINETUNE_S3_REGION.")
    s3_access_key_id: str | None = Field(
        default=None, description="AWS_ACCESS_KEY_ID; unset: the default AWS chain (an IAM role, for one)."
    )
    s3_secret_access_key: str | None = Field(default=None, description="AWS_SECRET_ACCESS_KEY.")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Every step that moves Arrow data uses this resource: its allocator is chosen here, per step process.
        arrow_memory.configure()

    def _options(self, url: str) -> dict:
        if not url.startswith(("s3://", "s3a://")):
            return {}
        client = {"endpoint_url": self.s3_endpoint_url, "region_name": self.s3_region}
        options = {"key": self.s3_access_key_id, "secret": self.s3_secret_access_key}
        # Each run asks the store afresh; a cached listing could hide a file another process wrote.
        return {
            **{name: value for name, value in options.items() if value},
            "client_kwargs": {name: value for name, value in client.items() if value},
            "skip_instance_cache": True,
            "use_listings_cache": False,
        }

    def exports(self) -> Store:
        return Store.from_url(self.export_path, **self._options(self.export_path))

    def staging(self) -> Store:
        if self.staging_path:
            return Store.from_url(self.staging_path, **self._options(self.staging_path))
        exports = self.exports()
        return Store(exports.fs, exports.path("_staging"))


class DatasetPolicy(ConfigurableResource):
    """What reaches the trainer: secret redaction, the trainer formats, the train/validation split and
    the token limit the checks warn about. Every field can be set in the launchpad or from the environment."""

    mask_network: bool = Field(default=False, description="Also replace IP addresses and host names.")
    extra_redaction_patterns: dict[str, str] = Field(
        default_factory=dict,
        description="type -> RE2 pattern, redacted as [REDACTED:type]; a first group is kept before the secret.",
    )
    formats: list[str] = Field(
        default_factory=lambda: ["alpaca"], description="Trainer formats: alpaca, openai_chat, sharegpt."
    )
    split_key: str = Field(
        default="alertname", description="Group kept on one side: alertname, incident_id, matched_playbook."
    )
    validation_fraction: float = Field(default=0.1, description="Share of groups in validation, 0 to 1.")
    token_limit: int = Field(default=16_385, description="Estimated tokens per line above which the check warns.")

    def redactor(self) -> Redactor:
        try:
            return Redactor(self.extra_redaction_patterns, self.mask_network)
        except RedactionPatternError as error:
            raise Failure(str(error), allow_retries=False) from None

    def validated(self) -> "DatasetPolicy":
        """Fails the step with a clear message on a setting no trainer file can be built from."""
        unknown = [name for name in self.formats if name not in FORMATS]
        problems = [f"unknown format(s) {unknown}: choose from {', '.join(FORMATS)}"] if unknown else []
        if not self.formats:
            problems.append(f"formats: name at least one of {', '.join(FORMATS)}")
        if self.split_key not in SPLIT_KEYS:
            problems.append(f"split_key {self.split_key!r}: choose from {', '.join(SPLIT_KEYS)}")
        if not 0 <= self.validation_fraction <= 1:
            problems.append(f"validation_fraction {self.validation_fraction} is not between 0 and 1")
        if problems:
            raise Failure("dataset policy: " + "; ".join(problems), allow_retries=False)
        return self
