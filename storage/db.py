"""Engine and unit of work: the one way to open a database session.

The engine is shared across threads; a session belongs to one unit of work on one thread.
SQLite runs in WAL mode with a busy timeout and foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing half-way when a
read transaction tries to upgrade to a write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_MMAP_BYTES = 1 << 30  # address space only; pages are shared with the OS cache
SQLITE_CACHE_KIB = 32 * 1024  # per connection, allocated only as pages are used


def normalize_url(url: str) -> str:
    """Return the SQLAlchemy URL to use: psycopg 3 for PostgreSQL, any other as given."""
    text = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    return text


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (``sqlite:///path.db`` or ``postgresql://...``)."""
    sa_url = make_url(normalize_url(url))
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(
            sa_url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(sa_url, echo=echo, pool_pre_ping=True)
    raise ValueError(f"unsupported database URL {sa_url.render_as_string(hide_password=True)!r}: "
                     "use sqlite:///path.db or postgresql://user@host/db")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Driver-level autocommit: pysqlite's own implicit BEGIN is replaced by ours below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Reports scan index ranges of tens of megabytes: reading them through a memory
            # map and a larger page cache saves copying them in on every query.
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success, rolls back on error and is always closed."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def vacuum_analyze(engine: Engine, tables: Sequence[str]) -> None:
    """Refresh the planner's statistics of ``tables`` after a bulk change (an import, a
    rebuild); on PostgreSQL vacuum them too, which also marks their pages all-visible so
    index-only scans need not read the table. VACUUM cannot run in a transaction."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
            else:
                connection.exec_driver_sql(f'ANALYZE "{table}"')
