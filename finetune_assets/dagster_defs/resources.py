"""Resources: the AIOps database (read-only for sources), where exports are written, and the dataset policy."""

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, EnvVar, Failure, InitResourceContext
from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import Connection

from ..core.redaction import Redactor
from ..db.connection import Database, PermanentDatabaseError, Timeouts
from ..db.demo_data import DEMO_DATABASE, DEMO_DIRECTORY
from ..io import arrow_memory
from ..io.export_records import ExportRecords
from ..io.locations import is_within
from ..io.store import Store
from .setting_types import (
    Count,
    DatabaseUrl,
    Factor,
    Flag,
    Formats,
    Fraction,
    PositiveWhole,
    RedactionPatterns,
    Seconds,
    SplitKey,
    Threshold,
    not_usable,
)

DEMO_EXPORTS = DEMO_DIRECTORY / "exports"


class CheckedResource(ConfigurableResource):
    """A resource whose fields' types say what each accepts (``setting_types``). A wrong value, from the
    environment or the launchpad, stops the run before any work, and the message never repeats it: it
    may be a secret."""

    model_config = ConfigDict(hide_input_in_errors=True)


class AiopsDatabase(CheckedResource):
    """The AIOps database. Sources are read in read-only transactions; only ``finetune_exports`` is written."""

    url: DatabaseUrl = Field(
        default=None,
        description="AIOPS_DATABASE_URL (postgresql+psycopg://…). Unset: the embedded SQLite demo database.",
    )
    demo_path: str = Field(default=str(DEMO_DATABASE), description="Where the embedded demo database lives.")
    connect_timeout: Seconds = Field(
        default=10, description="FINETUNE_DB_CONNECT_TIMEOUT: seconds to reach the server."
    )
    lock_timeout: Seconds = Field(default=60, description="FINETUNE_DB_LOCK_TIMEOUT: seconds to wait for a table lock.")
    statement_timeout: Seconds = Field(
        default=1800, description="FINETUNE_DB_STATEMENT_TIMEOUT: seconds for one query."
    )

    def database(self) -> Database:
        timeouts = Timeouts(self.connect_timeout, self.lock_timeout, self.statement_timeout)
        return Database(self.url, Path(self.demo_path), timeouts)

    def display_url(self) -> str:
        """The URL as it may appear in logs and metadata: never with a secret."""
        return self.database().display_url()

    @property
    def source(self) -> str:
        """What metadata and audit rows name as the source: ``demo``, or the URL without its secrets."""
        return "demo" if self.url is None else self.display_url()

    @contextmanager
    def read_only(self, action: str, tables: tuple[str, ...] = ()) -> Iterator[Connection]:
        with _as_failure(), self.database().read_only(action, tables) as connection:
            yield connection

    @contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        with _as_failure(), self.database().transaction(action) as connection:
            yield connection


@contextmanager
def _as_failure() -> Iterator[None]:
    """A permanent database error fails the step at once; a transient one is retried (``failures.failing_as``)."""
    try:
        yield
    except PermanentDatabaseError as error:
        raise Failure(description=str(error), allow_retries=False) from None


class ExportStorage(CheckedResource):
    """Where the weekly exports are written, and where runs stage their intermediate files: a local
    folder, or an S3-compatible bucket (AWS S3, MinIO) that every step of a run can reach from any host."""

    export_path: str = Field(
        default=str(DEMO_EXPORTS),
        description="FINETUNE_EXPORT_PATH: a folder, or s3://bucket/prefix; it receives one folder per week.",
    )
    staging_path: str | None = Field(
        default=None,
        description="FINETUNE_STAGING_PATH: the runs' intermediate files and the export records, outside the "
        "export tree; default: a folder of this user's own in the system's temporary folder.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="FINETUNE_S3_ENDPOINT_URL, for S3-compatible servers such as MinIO."
    )
    s3_region: str | None = Field(default=None, description="FINETUNE_S3_REGION.")
    s3_access_key_id: str | None = Field(
        default=None, description="AWS_ACCESS_KEY_ID; unset: the default AWS chain (an IAM role, for one)."
    )
    s3_secret_access_key: str | None = Field(default=None, description="AWS_SECRET_ACCESS_KEY.")

    @model_validator(mode="after")
    def _staging_apart_and_keys_paired(self) -> "ExportStorage":
        # EnvVars are read when a run starts, and Dagster builds the resource again then.
        if isinstance(self.staging_path, EnvVar) or isinstance(self.export_path, EnvVar):
            return self
        if self.staging_path and is_within(self.staging_path, self.export_path):
            raise not_usable(
                f"FINETUNE_STAGING_PATH={self.staging_path!r} is inside FINETUNE_EXPORT_PATH={self.export_path!r}, "
                "the tree trainers read: staged files hold source text; choose a folder or prefix outside it"
            )
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise not_usable(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither for the AWS chain"
            )
        return self

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Every step that moves Arrow data uses this resource: its allocator is chosen here, per step process.
        arrow_memory.configure()
        staging = self.staging()
        if staging.is_local:
            # The default root sits in a folder this code also creates, in the shared temporary folder.
            default = self.staging_path is None
            named = "the default staging folder" if default else "FINETUNE_STAGING_PATH"
            ensure_private_folder(Path(staging.root), named, levels=2 if default else 1)

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
        """Private: on a local disk its folders and files are readable by their owner only."""
        path = self.staging_path or str(default_staging_path())
        return Store.from_url(path, private=True, **self._options(path))

    def pending(self) -> Store:
        """Where an export is written and checked before it is published into the export tree: inside
        the staging store (owner-only), never where trainers look."""
        return self.staging().within("pending")

    def records(self) -> ExportRecords:
        return ExportRecords(self.staging())


def ensure_private_folder(folder: Path, named: str, levels: int) -> None:
    """Creates ``folder`` (mode 0700) if missing. It, and the ``levels - 1`` folders above it that this
    code creates, must be this user's and writable by no one else: a folder another user controls would
    let them read the staged source text or swap the export records the registration trusts."""
    chain = [folder, *folder.parents][:levels]
    for path in reversed(chain):
        if not path.exists() and not path.is_symlink():
            try:
                path.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                pass  # made meanwhile by another step: checked below like any existing folder
            except OSError as error:
                raise Failure(f"{named}: cannot create {path}: {error.strerror}", allow_retries=False) from None
        _refuse_unless_private(path, named)


def _refuse_unless_private(path: Path, named: str) -> None:
    status = path.lstat()
    if stat.S_ISLNK(status.st_mode):
        what = "is a symbolic link"
    elif status.st_uid != os.geteuid():
        what = f"belongs to uid {status.st_uid}, not to this user (uid {os.geteuid()})"
    elif status.st_mode & 0o022:
        what = f"is writable by others (mode {stat.S_IMODE(status.st_mode):04o})"
    else:
        return
    raise Failure(
        f"{named}: {path} {what}, so another user could read the staged files or swap the export records. "
        "Remove it (this user re-creates it with mode 0700), or set FINETUNE_STAGING_PATH to a folder of this "
        "user's own, not writable by others",
        allow_retries=False,
    )


def default_staging_path() -> Path:
    """A folder of this user's own under the system's temporary folder (never inside the export tree)."""
    return Path(tempfile.gettempdir()) / f"finetune_assets-{os.getuid()}" / "staging"


class DatasetPolicy(CheckedResource):
    """What reaches the trainer: secret redaction, the trainer formats, the train/validation split and
    the token limit the checks warn about. Every field can be set in the launchpad or from the environment."""

    mask_network: Flag = Field(default=False, description="Also replace IP addresses and host names.")
    extra_redaction_patterns: RedactionPatterns = Field(
        default_factory=dict,
        description="type -> RE2 pattern, redacted as [REDACTED:type]; a first group is kept before the secret.",
    )
    formats: Formats = Field(
        default_factory=lambda: ["alpaca"], description="Trainer formats: alpaca, openai_chat, sharegpt."
    )
    split_key: SplitKey = Field(
        default="alertname", description="Group kept on one side: alertname, incident_id, matched_playbook."
    )
    validation_fraction: Fraction = Field(default=0.1, description="Share of groups in validation, 0 to 1.")
    token_limit: PositiveWhole = Field(
        default=16_385, description="Estimated tokens per line above which the check warns."
    )
    quarantine_limit: Fraction = Field(
        default=0.01,
        description="FINETUNE_QUARANTINE_LIMIT: share of a week's pairs the scanner may withhold (0 to 1) before "
        "the week is blocked.",
    )

    def redactor(self) -> Redactor:
        return Redactor(self.extra_redaction_patterns, self.mask_network)


class CorpusPolicy(CheckedResource):
    """How the training corpus is built from the registered weeks, and when a week looks unusual."""

    weeks: PositiveWhole | None = Field(
        default=None, description="FINETUNE_CORPUS_WEEKS: build from the last N registered weeks; unset: all of them."
    )
    near_duplicate_threshold: Threshold = Field(
        default=0.85, description="FINETUNE_CORPUS_NEAR_DUPLICATE_THRESHOLD: Jaccard similarity (0 to 1, above 0)."
    )
    cluster_keep: Count = Field(
        default=3,
        description="FINETUNE_CORPUS_CLUSTER_KEEP: pairs kept per near-duplicate cluster, the earliest; "
        "0 turns near-duplicate removal off.",
    )
    health_factor: Factor = Field(
        default=2.0,
        description="FINETUNE_WEEK_HEALTH_FACTOR: a week whose pair count or skip rate is more than this many times "
        "above or below the median of the 8 weeks before it gets a warning.",
    )
