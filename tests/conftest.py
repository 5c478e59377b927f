"""Fixtures shared by every test package.

Database fixtures (use them in any test that needs storage):

- ``db_url``: a database URL at the newest migration with every table empty, once per engine:
  ``sqlite`` (a file of this pytest process) and ``postgresql`` (when ``TEST_DATABASE_URL`` is
  set; otherwise that parameter is skipped with the reason). Pass it to ``make_engine``,
  ``storage.migrate.upgrade`` (a no-op: already at head) or to a bot subprocess.
- ``engine``: ``storage.db.make_engine(db_url)``, made once per process and database so
  SQLAlchemy compiles each statement once per run, not once per test; its connections are
  closed after each test.
- ``uow``: a zero-argument callable returning ``storage.db.unit_of_work(engine)`` (the shape
  ``Deps.unit_of_work`` has): ``with uow() as session: ...``.
- ``empty_db_url``: like ``db_url`` but with no tables at all (migration tests).

Time: ``slack_retry_waits`` records the waits slack_sdk's rate-limit retries ask for instead
of sleeping them. Servers a test started close in the background (``tests/closing.py``); the
session waits for them at its end.

Isolation: each pytest process has its own database (SQLite: a copy of a template migrated
once; PostgreSQL: a schema, ``search_path`` in the URL, migrated once) and empties its tables
before every test, so tests, and parallel runs (``pytest -n 2``), never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import quote

import pytest

# Variables the bot reads; tests start from a clean slate so a developer's .env never leaks in.
_SLABOT_PREFIXES = ("SLACK_", "SLABOT_", "DATABASE_URL", "PORT", "LOG_LEVEL")
# Read before any fixture runs: the clean-environment fixture does not touch it either.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
_NO_PG = "PostgreSQL not configured: set TEST_DATABASE_URL to run these tests on it too"
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not TEST_DATABASE_URL, reason=_NO_PG)],
    ),
]


@pytest.fixture(scope="session", autouse=True)
def _servers_closed_at_the_end() -> Iterator[None]:
    from tests.closing import wait_all_closed

    yield
    wait_all_closed()


@pytest.fixture
def slack_retry_waits(monkeypatch) -> list[float]:
    """Seconds slack_sdk's retry handlers waited, recorded instead of slept on the wall clock
    (a 429 costs its Retry-After plus up to a second of jitter)."""
    from types import SimpleNamespace

    from slack_sdk.http_retry import builtin_handlers, handler

    waits: list[float] = []
    for module in (builtin_handlers, handler):
        monkeypatch.setattr(module, "time", SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(_SLABOT_PREFIXES):
            monkeypatch.delenv(name, raising=False)


def _pg_url_with_schema(schema: str) -> str:
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def _pg_admin(sql: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(TEST_DATABASE_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once per run; tests get copies of it."""
    from storage import migrate

    path = tmp_path_factory.mktemp("db-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_schema_url() -> Iterator[str]:
    """A PostgreSQL schema of this pytest process, migrated to head, dropped at the end."""
    from storage import migrate

    schema = f"slabot_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    url = _pg_url_with_schema(schema)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


def _empty_all_tables(engine) -> None:
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401

    # DELETE, children first: on tables this small it is far quicker than TRUNCATE.
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture(scope="session")
def _sqlite_session_url(_sqlite_template, tmp_path_factory) -> str:
    """This pytest process's SQLite database, a copy of the template."""
    path = tmp_path_factory.mktemp("db") / "slabot.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


def _session_engine(url: str) -> Iterator:
    from storage.db import make_engine

    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_engine(_sqlite_session_url):
    yield from _session_engine(_sqlite_session_url)


@pytest.fixture(scope="session")
def _postgresql_engine(_pg_schema_url):
    yield from _session_engine(_pg_schema_url)


@pytest.fixture(params=ENGINES)
def db_url(request) -> str:
    """URL of a database at the newest migration with empty tables (sqlite, postgresql)."""
    url = request.getfixturevalue(
        "_sqlite_session_url" if request.param == "sqlite" else "_pg_schema_url")
    _empty_all_tables(request.getfixturevalue(f"_{request.param}_engine"))
    return url


@pytest.fixture(params=ENGINES)
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """URL of a database with no tables at all (sqlite, postgresql), for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"slabot_empty_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_url_with_schema(schema)
    finally:
        _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(request, db_url):
    """``storage.db.make_engine(db_url)``, made once per pytest process and database."""
    engine = request.getfixturevalue(
        "_sqlite_engine" if db_url.startswith("sqlite") else "_postgresql_engine")
    yield engine
    engine.dispose()  # the test's connections; the engine (and its statement cache) stays


@pytest.fixture
def uow(engine) -> Callable[[], AbstractContextManager]:
    """Zero-argument factory of units of work on ``engine``: ``with uow() as session: ...``."""
    from storage.db import unit_of_work

    return lambda: unit_of_work(engine)
