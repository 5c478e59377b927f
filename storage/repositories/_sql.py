"""Small SQL helpers shared by the repositories (dialect differences live here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def insert_ignoring_duplicates(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    The database decides (primary/unique key), so two processes racing on the same key both
    finish cleanly and exactly one of them gets True.
    """
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    # RETURNING rather than rowcount: psycopg 3 through SQLAlchemy reports rowcount -1 here.
    key = next(iter(model.__table__.primary_key.columns))
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None


def insert_many_ignoring_duplicates(
    session: Session, model: type, rows: list[dict[str, Any]]
) -> set[Any]:
    """``insert_ignoring_duplicates`` for many rows in one statement; the keys inserted."""
    if not rows:
        return set()
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    table = model.__table__
    key = next(iter(table.primary_key.columns))
    # Core on the table, not the ORM model. The rows go as parameters, not as a VALUES list
    # in the statement: SQLAlchemy then packs them into multi-row INSERTs itself
    # ("insertmanyvalues") from one cached compilation, where a statement holding the rows
    # would be compiled anew for every batch.
    statement = insert(table).on_conflict_do_nothing().returning(key)
    return set(session.connection().execute(statement, rows).scalars())


def claim_rows(
    session: Session,
    model: Any,
    *,
    ready: Any,
    now: datetime,
    holder: str,
    limit: int,
    lease: timedelta,
) -> list[int]:
    """Lease up to ``limit`` rows of ``model`` matching ``ready`` whose claim is free or
    expired, oldest ``next_attempt_at`` first; the ids taken, each counted as an attempt.

    One ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`` statement: on PostgreSQL
    the inner select skips rows another replica has locked (``FOR UPDATE SKIP LOCKED``), on
    SQLite the unit of work already holds the single write lock.
    """
    candidates = (
        select(model.id)
        .where(
            ready,
            model.next_attempt_at <= now,
            or_(model.claimed_until.is_(None), model.claimed_until <= now),
        )
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=holder, claimed_until=now + lease, attempts=model.attempts + 1)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.execute(statement).scalars())
