"""How many tickets `/sla list` would show, counted in SQL (for `/sla status`).

The conditions are those of ``list_open_tickets``, ``list_at_risk_tickets`` and
``list_breached_tickets`` (``ticket_conditions``), so a status headline always agrees with
the lists it summarises; counting never loads rows, so it stays fast on big channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, select

from sla.breach import AT_RISK_FRACTION
from storage.repositories.ticket_conditions import (
    TICKETS,
    in_scope,
    ticket_at_risk,
    ticket_breached,
    unresolved,
)


@dataclass(frozen=True)
class TicketCounts:
    """Unresolved tickets now: all of them, those at risk (not breached), those breached."""

    open: int
    at_risk: int
    breached: int


def count_open_tickets(
    *,
    session: Session,
    workspace_id: int,
    now: datetime,
    channel_id: str | None = None,
    horizon: timedelta = timedelta(hours=1),
    at_risk_fraction: float = AT_RISK_FRACTION,
) -> TicketCounts:
    """Open, at-risk and breached ticket counts of a workspace (or one channel) at ``now``."""
    at_risk = ticket_at_risk(now, horizon_end=now + horizon, fraction=at_risk_fraction)
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((at_risk, 1), else_=0)), 0),
        func.coalesce(func.sum(case((ticket_breached(now), 1), else_=0)), 0),
    ).where(*in_scope(workspace_id, channel_id), unresolved())
    total, risky, late = session.exec(statement.select_from(TICKETS)).one()
    return TicketCounts(open=int(total), at_risk=int(risky), breached=int(late))
