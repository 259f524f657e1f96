"""Connections that cannot hang and errors that never show a secret: connect, lock and statement
timeouts, and which failures a retry could fix."""

import socket
import threading
import time
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import text

from finetune_assets.db.connection import (
    Database,
    PermanentDatabaseError,
    Timeouts,
    TransientDatabaseError,
    safe_url,
    url_problem,
)


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_lock_held_on_a_source_table_times_out_naming_the_table_and_is_retried(postgres_server, postgres_url):
    holder = psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"))
    holder.execute("LOCK TABLE incident_evidence IN ACCESS EXCLUSIVE MODE")  # held until rollback
    try:
        database = Database(postgres_url, timeouts=Timeouts(lock=0.5))
        began = time.monotonic()
        with pytest.raises(TransientDatabaseError) as error:
            with database.read_only(
                "extracting incident_evidence for week 2026-11-09", ("incidents", "incident_evidence")
            ):
                pass
        assert time.monotonic() - began < 10
    finally:
        holder.rollback()
        holder.close()
    message = str(error.value)
    assert "another session holds a lock on incident_evidence" in message
    assert "FINETUNE_DB_LOCK_TIMEOUT=0.5 s" in message and "will be retried" in message
    assert postgres_server.password not in message


def test_a_server_that_accepts_but_never_answers_costs_the_connect_timeout_and_is_transient(silent_server):
    url = f"postgresql+psycopg://aiops:s3cret-pw@127.0.0.1:{silent_server}/aiops"
    began = time.monotonic()
    with pytest.raises(TransientDatabaseError) as error:
        with Database(url, timeouts=Timeouts(connect=1)).read_only("reading incident_evidence"):
            pass
    assert time.monotonic() - began < 8
    assert "reading incident_evidence" in str(error.value) and "s3cret-pw" not in str(error.value)


def test_a_name_that_does_not_resolve_is_permanent():
    url = "postgresql+psycopg://aiops:s3cret-pw@aiops-db.invalid:5432/aiops"
    with pytest.raises(PermanentDatabaseError) as error:
        with Database(url, timeouts=Timeouts(connect=2)).read_only("reading incident_evidence"):
            pass
    assert "aiops-db.invalid" in str(error.value) and "s3cret-pw" not in str(error.value)


def test_a_query_longer_than_the_statement_timeout_is_cancelled_and_permanent(postgres_url):
    database = Database(postgres_url, timeouts=Timeouts(statement=0.3))
    with pytest.raises(PermanentDatabaseError, match="took longer than FINETUNE_DB_STATEMENT_TIMEOUT=0.3 s"):
        with database.read_only("extracting agent_sessions") as connection:
            connection.execute(text("SELECT pg_sleep(3)"))


def test_a_password_in_the_query_string_is_hidden_in_the_url_shown_and_in_errors(postgres_server):
    url = (
        f"postgresql+psycopg://127.0.0.1:{postgres_server.port}/postgres?user=postgres"
        f"&password={quote(postgres_server.password)}&sslmode=disable"
    )
    shown = safe_url(url)
    assert postgres_server.password not in shown and "password=***" in shown and "sslmode=disable" in shown
    with pytest.raises(PermanentDatabaseError) as error:
        with Database(url).read_only("reading a table that is not there") as connection:
            connection.execute(text("SELECT * FROM no_such_table"))
    assert postgres_server.password not in str(error.value) and "password=***" in str(error.value)
    wrong = url.replace(quote(postgres_server.password), "Wr0ngButSecret")
    with pytest.raises(PermanentDatabaseError) as error:
        with Database(wrong).read_only("reading incident_evidence"):
            pass
    assert "password authentication failed" in str(error.value) and "Wr0ngButSecret" not in str(error.value)


@pytest.mark.parametrize(
    "url, problem",
    [
        (
            "postgresql+psycopg://aiops:p@ssw0rd@db:5432/aiops",
            "'@' in its user or password that is not percent-encoded",
        ),
        ("", "is set but empty"),
        ("   ", "is set but empty"),
        ("not a url at all", "is not a SQLAlchemy URL"),
        ("mysql+pymysql://aiops:pw@db/aiops", "names a 'mysql' database"),
    ],
)
def test_a_url_that_would_mislead_is_refused_without_repeating_it(url, problem):
    found = url_problem(url)
    assert problem in found
    for part in ("p@ssw0rd", "ssw0rd", "pw@db"):
        assert part not in found and part not in safe_url(url)


def test_a_good_url_passes_and_shows_no_password():
    assert url_problem("postgresql+psycopg://aiops:p%40ss@db:5432/aiops") is None
    assert safe_url("postgresql+psycopg://aiops:p%40ss@db:5432/aiops") == "postgresql+psycopg://aiops:***@db:5432/aiops"
