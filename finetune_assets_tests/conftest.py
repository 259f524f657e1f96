"""Fixtures: a real PostgreSQL 15 server for the session, a fresh database (or SQLite file) per test,
an S3-protocol server, Debian's Chromium; and the check, before any test runs, that the machine has them."""

import uuid

import pytest
from sqlalchemy import create_engine

from finetune_assets.db.schema import SOURCE_TABLES
from finetune_assets.devtools.local_postgres import LocalPostgres
from finetune_assets.devtools.prerequisites import chromium_executable, missing

from .s3_server import LocalS3
from .seed import source_database


def pytest_addoption(parser):
    parser.addoption(
        "--update-screenshot",
        action="store_true",
        help="the browser test also copies its screenshot of the lineage to docs/lineage.png",
    )


def pytest_collection_finish(session):
    """Fails the run in its first seconds when the selected tests need something the machine lacks."""
    needs = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    problems = missing(
        needs_postgres="postgres_server" in needs,
        needs_chromium="chromium" in needs,
        needs_root=any(item.get_closest_marker("root") for item in session.items),
    )
    if problems:
        pytest.exit("the tests need, and this machine lacks:\n  " + "\n  ".join(problems), returncode=4)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, which Playwright drives (its own browser download does not work everywhere)."""
    return chromium_executable()


@pytest.fixture(scope="session")
def postgres_server():
    # No skip when PostgreSQL is missing: these tests must run wherever the suite runs.
    with LocalPostgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return source_database(postgres_server, f"aiops_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'aiops.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in SOURCE_TABLES:
            table.create(connection)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Each lineage test runs against the embedded default and against PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def s3_server():
    with LocalS3() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server) -> str:
    return s3_server.new_bucket()
