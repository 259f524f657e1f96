"""Connections to the AIOps database: read-only transactions for the sources, errors that say what
failed and where without a secret, and which of them a retry could fix."""

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Connection, create_engine, exc, make_url
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from .demo_data import DEMO_DATABASE, ensure_demo_database

# Errors after which the same statement may well succeed: the server went away, is restarting, or
# refused us for now. Anything else (bad credentials, a port out of range, SSL the server lacks, a bad
# `options` value, a missing table, a read-only violation) fails at once: a retry would only repeat it.
# By SQLSTATE where the server sent one (08 connection, 53 resources, 57P shutdown/recovery, 40001
# serialization, 40P01 deadlock); else by what libpq or SQLite said.
TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01")
TRANSIENT_MARKERS = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "not yet accepting connections",
    "timeout expired",
    "connection timed out",
    "connection reset",
    "no route to host",
    "network is unreachable",
    "ssl syscall error",
    "eof detected",
    "consuming input failed",
    "connection already closed",
    "database is locked",
)
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


SUPPORTED_DIALECTS = ("postgresql", "sqlite")
# Query parameters whose values are secrets (libpq's password, sslpassword; a driver's token...).
SECRET_QUERY_KEYS = re.compile(r"(?i)pass|secret|token|key")
HIDDEN = "***"


def url_problem(url: str) -> str | None:
    """What is wrong with a database URL, in words that never repeat any part of it."""
    if not url.strip():
        return "is set but empty"
    rest = url.partition("://")[2]
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    if authority.count("@") > 1:
        return "has an '@' in its user or password that is not percent-encoded (write it as %40)"
    try:
        parsed = make_url(url)
    except Exception:
        return "is not a SQLAlchemy URL of the form dialect+driver://user:password@host:port/database"
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        return (
            f"names a {parsed.get_backend_name()!r} database; this pipeline reads PostgreSQL (or SQLite for the demo)"
        )
    if parsed.get_backend_name() == "postgresql" and not parsed.host and "host" not in parsed.query:
        return "names no host"
    return None


def safe_url(url: str) -> str:
    """The URL as logs, metadata and errors may show it: password and secret query values hidden, and
    nothing at all of a URL that does not parse."""
    if url_problem(url):
        return "a database URL that does not parse (not shown)"
    parsed: URL = make_url(url)
    hidden = {key: HIDDEN for key in parsed.query if SECRET_QUERY_KEYS.search(key)}
    shown = parsed.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("%2A%2A%2A", HIDDEN)


def scrubbed(text: str, url: str | None) -> str:
    """``text`` with every secret of ``url`` replaced, should a driver repeat one in its message."""
    if not url:
        return text
    secrets = [make_url(url).password] if not url_problem(url) else []
    secrets += [value for key, value in _query(url).items() if SECRET_QUERY_KEYS.search(key)]
    for secret in filter(None, secrets):
        text = text.replace(str(secret), HIDDEN)
    return text


def _query(url: str) -> dict[str, str]:
    try:
        return dict(item.split("=", 1) for item in urlsplit(url).query.split("&") if "=" in item)
    except ValueError:
        return {}


class TransientDatabaseError(Exception):
    """A connection-level failure that a later try may not meet."""


class PermanentDatabaseError(Exception):
    """A failure no retry fixes: bad credentials, a missing table, a read-only violation."""


# PostgreSQL counts timeouts in whole milliseconds (0 switches one off) and libpq's connect timeout in
# whole seconds; past a day a timeout no longer bounds anything a user would wait for.
MAX_TIMEOUT_SECONDS = 86_400
TIMEOUT_ACCEPTED = f"a number of seconds from 0.001 to {MAX_TIMEOUT_SECONDS} (a day), such as 60"


def timeout_problem(seconds: float) -> str | None:
    """What is wrong with a timeout in seconds, as PostgreSQL and the OS will take it; None when fine."""
    if not math.isfinite(seconds) or milliseconds(seconds) < 1 or seconds > MAX_TIMEOUT_SECONDS:
        return f"accepted: {TIMEOUT_ACCEPTED}"
    return None


def milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True)
class Timeouts:
    """Seconds; each bounds one way a step could otherwise wait forever."""

    connect: float = 10  # reaching the server, through authentication
    lock: float = 60  # waiting for a lock another session holds on a table
    statement: float = 1800  # one query, start to last row


@dataclass(frozen=True)
class Database:
    """``url`` is a SQLAlchemy URL; None means the embedded demo database at ``demo_path`` (built on first use)."""

    url: str | None
    demo_path: Path = DEMO_DATABASE
    timeouts: Timeouts = Timeouts()

    @property
    def is_demo(self) -> bool:
        return self.url is None

    def sqlalchemy_url(self) -> str:
        if self.url is not None:
            return self.url
        return f"sqlite:///{ensure_demo_database(self.demo_path)}"

    def display_url(self) -> str:
        """The URL as it may appear in logs and metadata: never with a secret."""
        if self.is_demo:
            return f"embedded demo database {self.demo_path}"
        return safe_url(self.url)

    def _engine(self):
        url = self.sqlalchemy_url()
        if make_url(url).get_backend_name() == "sqlite":
            return create_engine(url, poolclass=NullPool, connect_args={"timeout": self.timeouts.lock})
        return create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": max(1, round(self.timeouts.connect))}
        )

    @contextmanager
    def _connection(self, read_only: bool, tables: tuple[str, ...]) -> Iterator[Connection]:
        engine = self._engine()
        try:
            with engine.connect() as connection:
                postgres = engine.dialect.name == "postgresql"
                if read_only and not postgres:
                    connection.exec_driver_sql("PRAGMA query_only = ON")
                    connection.commit()
                with connection.begin():
                    if postgres:
                        self._bound(connection, read_only, tables)
                    yield connection
        finally:
            engine.dispose()

    def _bound(self, connection: Connection, read_only: bool, tables: tuple[str, ...]) -> None:
        if read_only:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        # SET takes no bound parameters; the values are numbers this code formats itself.
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{milliseconds(self.timeouts.lock)}ms'")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{milliseconds(self.timeouts.statement)}ms'")
        quote = connection.dialect.identifier_preparer.quote
        for table in tables:
            # One table at a time, so a lock that cannot be had is named.
            try:
                connection.exec_driver_sql(f"LOCK TABLE {quote(table)} IN ACCESS SHARE MODE")
            except exc.OperationalError as error:
                if _sqlstate(error) == LOCK_NOT_AVAILABLE:
                    raise LockWaitTimeout(table) from error
                raise

    @contextmanager
    def read_only(self, action: str, tables: tuple[str, ...] = ()) -> Iterator[Connection]:
        """A read-only transaction; ``tables`` are locked for reading first, each with the lock timeout."""
        with self.errors_explained(action), self._connection(True, tables) as connection:
            yield connection

    @contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        with self.errors_explained(action), self._connection(False, ()) as connection:
            yield connection

    @contextmanager
    def errors_explained(self, action: str) -> Iterator[None]:
        """Turns a driver error into a message that says what failed and where, without secrets, and
        into a transient or a permanent error."""
        where = f"{action} on {self.display_url()}"
        try:
            yield
        except LockWaitTimeout as error:
            raise TransientDatabaseError(
                f"{where}: another session holds a lock on {error.table}; waited FINETUNE_DB_LOCK_TIMEOUT="
                f"{self.timeouts.lock:g} s for it. The step will be retried."
            ) from None
        except exc.SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            detail = scrubbed(f"{type(cause).__name__}: {cause}".strip(), self.url)
            if _sqlstate(error) == QUERY_CANCELED:
                raise PermanentDatabaseError(
                    f"{where} took longer than FINETUNE_DB_STATEMENT_TIMEOUT={self.timeouts.statement:g} s "
                    f"and was cancelled: {detail}"
                ) from None
            message = f"{where} failed: {detail}"
            if is_transient(error):
                raise TransientDatabaseError(message) from None
            raise PermanentDatabaseError(message) from None


class LockWaitTimeout(Exception):
    def __init__(self, table: str):
        super().__init__(table)
        self.table = table


def is_transient(error: Exception) -> bool:
    """Whether a later try of the same work may succeed (see TRANSIENT_SQLSTATES)."""
    if isinstance(error, exc.TimeoutError):  # no connection free in a pool: a wait, not a fault
        return True
    if not isinstance(error, exc.OperationalError | exc.InterfaceError | exc.DisconnectionError):
        return False
    if state := _sqlstate(error):
        return state.startswith(TRANSIENT_SQLSTATES)
    cause = getattr(error, "orig", None) or error
    return any(marker in str(cause).lower() for marker in TRANSIENT_MARKERS)


def _sqlstate(error: Exception) -> str | None:
    cause = getattr(error, "orig", None) or error.__cause__ or error
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
