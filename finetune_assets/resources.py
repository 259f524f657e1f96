"""Resources: the AIOps database (read-only for sources) and where exports are written."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, Failure
from pydantic import Field
from sqlalchemy import Connection, create_engine, exc, make_url
from sqlalchemy.pool import NullPool

DEMO_DIRECTORY = Path(".finetune_demo")
DEMO_DATABASE = DEMO_DIRECTORY / "aiops_demo.sqlite"
DEMO_EXPORTS = DEMO_DIRECTORY / "exports"

# Errors after which the same statement may well succeed: the server went away or refused us for now.
TRANSIENT_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)
# ...except these, which no retry fixes: bad credentials, a database that does not exist.
PERMANENT_MARKERS = (
    "password authentication failed",
    "does not exist",
    "no password supplied",
    "readonly database",
    "read-only transaction",
)


class TransientDatabaseError(Exception):
    """A connection-level failure; the asset's RetryPolicy tries the step again."""


class AiopsDatabase(ConfigurableResource):
    """The AIOps database. Sources are read in read-only transactions; only ``finetune_exports`` is written."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+psycopg://…). Unset: the embedded SQLite demo database.",
    )
    demo_path: str = Field(default=str(DEMO_DATABASE), description="Where the embedded demo database lives.")

    def sqlalchemy_url(self) -> str:
        if self.url:
            return self.url
        from .demo import ensure_demo_database

        return f"sqlite:///{ensure_demo_database(Path(self.demo_path))}"

    def display_url(self) -> str:
        """The URL as it may appear in logs and metadata: never with its password."""
        if not self.url:
            return f"embedded demo database {self.demo_path}"
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _connection(self, read_only: bool) -> Iterator[Connection]:
        engine = create_engine(self.sqlalchemy_url(), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                if read_only and engine.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA query_only = ON")
                    connection.commit()
                with connection.begin():
                    if read_only and engine.dialect.name == "postgresql":
                        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                    yield connection
        finally:
            engine.dispose()

    @contextmanager
    def read_only(self, action: str) -> Iterator[Connection]:
        with self.errors_explained(action), self._connection(read_only=True) as connection:
            yield connection

    @contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        with self.errors_explained(action), self._connection(read_only=False) as connection:
            yield connection

    @contextmanager
    def errors_explained(self, action: str) -> Iterator[None]:
        """Turns a driver error into a message that says what failed and where, without secrets."""
        try:
            yield
        except exc.SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            message = f"{action} on {self.display_url()} failed: {type(cause).__name__}: {cause}".strip()
            if isinstance(error, TRANSIENT_ERRORS) and not any(marker in str(cause) for marker in PERMANENT_MARKERS):
                raise TransientDatabaseError(message) from None
            raise Failure(description=message, allow_retries=False) from None


class ExportStorage(ConfigurableResource):
    """Where the weekly JSONL files and the intermediate Parquet files are written."""

    export_path: str = Field(
        default=str(DEMO_EXPORTS), description="FINETUNE_EXPORT_PATH: the folder that receives one folder per week."
    )
    staging_path: str | None = Field(
        default=None, description="Intermediate Parquet files; default: a _staging folder under export_path."
    )

    def export_root(self) -> Path:
        return Path(self.export_path).expanduser().resolve()

    def staging_root(self) -> Path:
        if self.staging_path:
            return Path(self.staging_path).expanduser().resolve()
        return self.export_root() / "_staging"
