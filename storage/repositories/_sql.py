"""Small SQL helpers shared by the repositories: dialect differences, and what the leased
queues (tickets to plan, nudges, the inbox, the outbox) have in common."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Table, func, inspect, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, SQLModel, select

from storage.errors import NotFound
from storage.models import utcnow

Row = TypeVar("Row", bound=SQLModel)


class _Stamped(Protocol):
    updated_at: datetime


Stamped = TypeVar("Stamped", bound=_Stamped)


def save_changed(session: Session, row: Stamped) -> Stamped:
    """Stamp a changed row's ``updated_at`` and flush it, so the rest of the unit of work
    (and a constraint that fails) sees the change now rather than at commit."""
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


class unindexed(FunctionElement[Any]):
    """A column SQLite's planner must not pick an index for: ``+column`` there (a no-op
    that hides the column from index selection), the column elsewhere. For a range that
    SQLite, without a histogram, takes for as narrow as a far better one beside it."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _column_as_is(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _column_unindexed(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model (SQLModel leaves ``__table__`` untyped)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def get_row(session: Session, model: type[Row], row_id: int, what: str) -> Row:
    """The ``model`` row with this id; ``NotFound`` ("no <what> with id <n>") otherwise."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"no {what} with id {row_id}")
    return row


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ``ON CONFLICT`` on the session's engine."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], values: Mapping[str, Any]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    The database decides (primary/unique key), so two processes racing on the same key both
    finish cleanly and exactly one of them gets True.
    """
    table = table_of(model)
    # RETURNING rather than rowcount: psycopg 3 through SQLAlchemy reports rowcount -1 here.
    key = next(iter(table.primary_key.columns))
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    return session.exec(statement.returning(key)).first() is not None


def claim_rows(
    session: Session,
    model: type[SQLModel],
    *,
    ready: ColumnElement[bool],
    now: datetime,
    holder: str,
    limit: int,
    lease: timedelta,
    due: str = "next_attempt_at",
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Lease up to ``limit`` rows of ``model`` matching ``ready`` whose ``due`` instant has
    come and whose claim is free or expired, earliest ``due`` first; the ids taken.

    ``values`` are set on the rows taken as well (a claim that counts an attempt, or moves
    the row's state). One ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``
    statement: on PostgreSQL the inner select skips rows another replica has locked
    (``FOR UPDATE SKIP LOCKED``), on SQLite the unit of work already holds the single write
    lock.
    """
    table = table_of(model)
    columns = table.c
    candidates = (
        select(columns.id)
        .where(
            ready,
            columns[due] <= now,
            or_(columns.claimed_until.is_(None), columns.claimed_until <= now),
        )
        .order_by(columns[due], columns.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(columns.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=holder, claimed_until=now + lease, **(values or {}))
        .returning(columns.id)
    )
    return sorted(session.exec(statement).scalars())


def counted_attempt(model: type[SQLModel]) -> dict[str, Any]:
    """The ``values`` of a claim that counts as one more attempt (see ``claim_rows``)."""
    return {"attempts": table_of(model).c.attempts + 1}


def load_claimed(
    session: Session, model: type[Row], ids: Sequence[int], *order_by: str
) -> list[Row]:
    """The rows just claimed, ordered by the ``order_by`` columns, read afresh (the claim's
    UPDATE went around the rows this session may hold)."""
    if not ids:
        return []
    columns = table_of(model).c
    statement = (
        select(model)
        .where(columns.id.in_(ids))
        .order_by(*(columns[name] for name in order_by))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement))


def earliest_attempt(session: Session, model: type[SQLModel], *, state: str) -> datetime | None:
    """When the earliest row in ``state`` may be tried (``next_attempt_at``)."""
    columns = table_of(model).c
    earliest: datetime | None = session.exec(
        select(func.min(columns.next_attempt_at)).where(columns.state == state)
    ).one()
    return earliest


def due_count(session: Session, model: type[SQLModel], *, state: str, now: datetime) -> int:
    """Rows in ``state`` whose ``next_attempt_at`` has come."""
    columns = table_of(model).c
    return session.exec(
        select(func.count()).where(columns.state == state, columns.next_attempt_at <= now)
    ).one()


def queue_depth(
    session: Session, model: type[SQLModel], *, waiting: str, given_up: str, arrived: str
) -> tuple[int, int, datetime | None]:
    """A queue's health: how many rows are ``waiting``, how many were ``given_up`` for good
    (states), and the earliest ``arrived`` instant among those waiting."""
    columns = table_of(model).c
    pending, oldest = session.exec(
        select(func.count(), func.min(columns[arrived])).where(columns.state == waiting)
    ).one()
    stuck = session.exec(select(func.count()).where(columns.state == given_up)).one()
    return pending, stuck, oldest
