"""Lists of tickets: the unresolved ones (all, breached, at risk) and a report's period.

Breached and at risk follow ``ticket_conditions`` (the rule of ``sla.compliance``), which
the status counts (``ticket_counts``) use too, so a headline agrees with its lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from sla.breach import AT_RISK_FRACTION
from storage.models import Ticket
from storage.repositories.ticket_conditions import (
    in_scope,
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


def list_tickets_in_period(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    channel_id: str | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    """Tickets that matter for a report over ``[start, end)``: created before ``end`` and not
    resolved before ``start`` (so every metric stopping or running in the period is there)."""
    statement = (
        select(Ticket)
        .where(
            *in_scope(workspace_id, channel_id),
            col(Ticket.created_at) < end,
            or_(col(Ticket.resolved_at).is_(None), col(Ticket.resolved_at) >= start),
        )
        .order_by(col(Ticket.created_at), col(Ticket.id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))
