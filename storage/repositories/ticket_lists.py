"""Lists of tickets: the unresolved ones (all, breached, at risk) and a report's period.

Breached and at risk follow ``ticket_conditions`` (the rule of ``sla.compliance``), which
the status counts (``ticket_counts``) use too, so a headline agrees with its lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sla.breach import AT_RISK_FRACTION
from sla.events import ClockEvent
from sla.targets import Metric
from storage.mappers import clock_events
from storage.models import Ticket, TicketEvent
from storage.repositories._sql import unindexed
from storage.repositories.ticket_conditions import (
    TICKETS,
    in_scope,
    metric_column,
    ticket_at_risk,
    ticket_breached,
    unresolved,
)


def list_open_tickets(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    involving: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """Open and paused tickets, oldest first; with `involving`, only those that person
    asked for or is assigned to (filtered in SQL, before the limit)."""
    conditions = () if involving is None else (
        or_(col(Ticket.requester_id) == involving, col(Ticket.assignee_id) == involving),)
    return _unresolved(session, in_scope(workspace_id, channel_id, assignee_id), limit,
                       *conditions)


def list_breached_tickets(
    *,
    session: Session,
    workspace_id: int,
    now: datetime,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """Unresolved tickets with a running (or paused) metric already past its target at ``now``,
    oldest first."""
    return _unresolved(session, in_scope(workspace_id, channel_id, assignee_id), limit,
                       ticket_breached(now))


def list_at_risk_tickets(
    *,
    session: Session,
    workspace_id: int,
    now: datetime,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    horizon: timedelta = timedelta(hours=1),
    at_risk_fraction: float = AT_RISK_FRACTION,
    limit: int = 100,
) -> list[Ticket]:
    """Unresolved, not yet breached tickets with a metric at risk (as ``sla.compliance``
    counts it: at ``at_risk_fraction`` of its target or due within ``horizon``), oldest
    first (``/sla list`` orders them by urgency itself)."""
    at_risk = ticket_at_risk(now, horizon_end=now + horizon, fraction=at_risk_fraction)
    return _unresolved(session, in_scope(workspace_id, channel_id, assignee_id), limit, at_risk)


def _unresolved(session: Session, scope: list[ColumnElement[bool]], limit: int,
                *conditions: ColumnElement[bool]) -> list[Ticket]:
    """Unresolved tickets in scope that meet `conditions`, oldest first, at most `limit`."""
    statement = (
        select(Ticket)
        .where(*scope, unresolved(), *conditions)
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(limit)
    )
    return list(session.exec(statement))


def _in_period(workspace_id: int, start: datetime, end: datetime, channel_id: str | None
               ) -> list[ColumnElement[bool]]:
    """Created before ``end`` and not resolved before ``start`` (so every metric stopping or
    running in ``[start, end)`` is there)."""
    return [*in_scope(workspace_id, channel_id), col(Ticket.created_at) < end,
            or_(col(Ticket.resolved_at).is_(None), col(Ticket.resolved_at) >= start)]


def list_tickets_in_period(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    channel_id: str | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    """Tickets that matter for a report over ``[start, end)`` (see ``_in_period``)."""
    statement = (
        select(Ticket)
        .where(*_in_period(workspace_id, start, end, channel_id))
        .order_by(col(Ticket.created_at), col(Ticket.id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


# What a report needs of each ticket of a period (``period_ticket_rows``).
_FACT_COLUMNS = ("id", "key", "channel_id", "priority", "status", "assignee_id", "permalink",
                 "created_at", "first_response_at", "resolved_at")
_METRIC_COLUMNS = ("target_s", "started_at", "due_at", "stopped_at", "elapsed_s", "breached")


def period_ticket_rows(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    channel_id: str | None = None,
) -> Sequence[Row[Any]]:
    """The tickets of ``list_tickets_in_period`` as plain rows of the columns a report reads
    (identity, status, instants and every metric's stored results, by their column names):
    a period of a busy workspace holds a hundred thousand tickets, which as ORM objects
    cost several times the read."""
    rows = session.execute(period_ticket_statement(
        workspace_id=workspace_id, start=start, end=end, channel_id=channel_id)).all()
    return sorted(rows, key=lambda row: (row.created_at, row.id))  # oldest first


def period_ticket_statement(*, workspace_id: int, start: datetime, end: datetime,
                            channel_id: str | None) -> Select[Any]:
    """``period_ticket_rows``'s statement: the OR of ``list_tickets_in_period`` as two
    ranges of one index, by when tickets were resolved (NULL: not resolved), where SQLite's
    planner, without statistics, may read every ticket created before ``end`` for it."""
    columns = [TICKETS.c[name] for name in _FACT_COLUMNS] + [
        metric_column(metric, name) for metric in Metric for name in _METRIC_COLUMNS]
    scope = [*in_scope(workspace_id, channel_id), unindexed(TICKETS.c.created_at) < end]
    both = union_all(sa_select(*columns).where(*scope, TICKETS.c.resolved_at >= start),
                     sa_select(*columns).where(*scope, TICKETS.c.resolved_at.is_(None))
                     ).subquery()
    return sa_select(both)  # no ORDER BY: SQLite would read the tickets by creation for it


def unresolved_clock_events(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    channel_id: str | None = None,
) -> dict[int, list[ClockEvent]]:
    """The clock events of the unresolved tickets of ``list_tickets_in_period``, by ticket id,
    in one statement (each oldest first, ties in insertion order)."""
    found: dict[int, list[TicketEvent]] = defaultdict(list)
    rows = session.execute(
        sa_select(TicketEvent)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(*in_scope(workspace_id, channel_id), unindexed(TICKETS.c.created_at) < end,
               TICKETS.c.resolved_at.is_(None))
        .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id))
    ).scalars()
    for event in rows:
        found[event.ticket_id].append(event)
    return {ticket_id: clock_events(events) for ticket_id, events in found.items()}
