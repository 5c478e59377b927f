"""Alembic migrations: the round trip on both engines, and models and migrations agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage import migrate
from storage.db import make_engine

TABLES = {
    "workspaces", "policies", "tracked_channels", "tickets", "ticket_events", "nudges",
    "processed_events", "digest_subscriptions", "job_leases",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again(empty_db_url):
    migrate.upgrade(empty_db_url)
    assert _tables(empty_db_url) == TABLES
    assert migrate.current_revision(empty_db_url) == "0001"

    migrate.downgrade(empty_db_url, "base")
    assert _tables(empty_db_url) == set()
    assert migrate.current_revision(empty_db_url) is None

    migrate.upgrade(empty_db_url)
    assert _tables(empty_db_url) == TABLES


def test_upgrade_twice_is_a_no_op(db_url):
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == "0001"


def test_models_and_migrations_agree(empty_db_url):
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []
