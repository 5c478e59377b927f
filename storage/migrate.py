"""Run the Alembic migrations programmatically: ``slabot migrate`` calls ``upgrade(url)``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from storage.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, *, engine: Engine | None = None) -> Config:
    """An Alembic config for ``url`` (or an existing ``engine``), without an alembic.ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: URLs may contain '%' (ConfigParser syntax).
    config.attributes["engine"] = engine if engine is not None else make_engine(url)
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply every pending migration up to ``revision`` (default: the newest)."""
    _run(command.upgrade, url, revision)


def downgrade(url: str | None, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"`` drops the whole schema)."""
    _run(command.downgrade, url, revision)


def stamp(url: str | None = None, revision: str = "head") -> None:
    """Record ``revision`` as applied without running it (for a schema made by create_all)."""
    _run(command.stamp, url, revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run(action, url: str | None, revision: str) -> None:
    config = alembic_config(url)
    engine = config.attributes["engine"]
    try:
        action(config, revision)
    finally:
        engine.dispose()
