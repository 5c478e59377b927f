"""How many tickets `/sla list` would show, counted in SQL (for `/sla status`).

The conditions are those of ``list_open_tickets``, ``list_at_risk_tickets`` and
``list_breached_tickets`` (the same helpers), so a status headline always agrees with the
lists it summarises; counting never loads rows, so it stays fast on big channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, not_, or_, select
from sqlmodel import Session

from storage.models import Ticket
from storage.repositories.tickets import (
    _PREFIXES,
    AT_RISK_FRACTION,
    _at_risk,
    _breached_now,
    _not_resolved,
    _scope,
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
    breached = or_(*(_breached_now(p, now) for p in _PREFIXES))
    at_risk = and_(
        *(not_(_breached_now(p, now)) for p in _PREFIXES),
        or_(*(_at_risk(p, now, horizon, at_risk_fraction) for p in _PREFIXES)),
    )
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((at_risk, 1), else_=0)), 0),
        func.coalesce(func.sum(case((breached, 1), else_=0)), 0),
    ).where(*_scope(workspace_id, channel_id, None), _not_resolved())
    total, risky, late = session.execute(statement.select_from(Ticket)).one()
    return TicketCounts(open=int(total), at_risk=int(risky), breached=int(late))
