"""Column types shared by the tables: instants are stored in UTC and read back as aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class SQLiteInstantText(SQLITE_DATETIME):
    """SQLite's DATETIME column, its text written by `datetime.isoformat` (C) rather than a
    %-format over a dict of the value's fields per value: the same text
    (``2026-11-23 09:30:00.000000``) for less than half the cost, which the intake's batch
    inserts of a dozen instants per ticket notice."""

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], str | None]:
        def process(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")

        return process


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC on every engine and always returned as aware UTC.

    PostgreSQL keeps it in a ``timestamptz``; SQLite has no time zones, so the value is written
    as naive UTC text, which also keeps string comparison equal to time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # SQLAlchemy's sqlite DATETIME.__init__ carries no annotations.
            return dialect.type_descriptor(SQLiteInstantText())  # type: ignore[no-untyped-call]
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware instant")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect: Dialect, coltype: object
                         ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            # The naive UTC text written above, parsed as UTC in one C call (a report reads
            # a dozen instants of each of a hundred thousand tickets).
            def process(value: str | None) -> datetime | None:
                return None if value is None else datetime.fromisoformat(value + "+00:00")

            return process
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
