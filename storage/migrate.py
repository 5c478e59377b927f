"""Run the Alembic migrations programmatically: ``slabot migrate`` calls ``upgrade(url)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from storage.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that migrates through ``engine``, without an alembic.ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: URLs may contain '%' (ConfigParser syntax).
    config.attributes["engine"] = engine
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending migration up to ``revision`` (default: the newest)."""
    _run(command.upgrade, url, revision)


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"`` drops the whole schema)."""
    _run(command.downgrade, url, revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run(action: Callable[[Config, str], None], url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        action(alembic_config(engine), revision)
    finally:
        engine.dispose()
