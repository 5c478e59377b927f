"""What every table shares: constraint names, aware UTC instants and foreign keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ForeignKey
from sqlmodel import Field, SQLModel

from storage.columns import UTCDateTime

# Set before any table is declared: constraint names follow from it in migrations.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Row bookkeeping timestamp (created/updated); SLA instants always come from the caller."""
    return datetime.now(UTC)


def instant(
    *, nullable: bool = True, index: bool = False, default: Callable[[], datetime] | None = None
) -> Any:
    """An aware UTC instant column (``UTCDateTime``), optionally filled by ``default()``."""
    if default is not None:
        return Field(default_factory=default, sa_type=UTCDateTime, nullable=nullable, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def foreign_key(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    """A column referring to ``target`` ("table.column"), deleted with it by default."""
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
    )


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Row) -> int:
    """The primary key of a row that is in the database.

    Tables declare ``id: int | None`` because a new row has no id until it is flushed; every
    row a repository returns has one, and this says so once instead of at each use.
    """
    if row.id is None:
        raise ValueError(f"this {type(row).__name__} is not stored yet: it has no id")
    return row.id
