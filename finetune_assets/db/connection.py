"""Connections to the AIOps database: read-only transactions for the sources, errors that say what
failed and where without a secret, and which of them a retry could fix."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, exc, make_url
from sqlalchemy.pool import NullPool

from .demo_data import DEMO_DATABASE, ensure_demo_database

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
    """A connection-level failure that a later try may not meet."""


class PermanentDatabaseError(Exception):
    """A failure no retry fixes: bad credentials, a missing table, a read-only violation."""


@dataclass(frozen=True)
class Database:
    """``url`` is a SQLAlchemy URL; None means the embedded demo database at ``demo_path`` (built on first use)."""

    url: str | None
    demo_path: Path = DEMO_DATABASE

    def sqlalchemy_url(self) -> str:
        if self.url:
            return self.url
        return f"sqlite:///{ensure_demo_database(self.demo_path)}"

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
            raise PermanentDatabaseError(message) from None
