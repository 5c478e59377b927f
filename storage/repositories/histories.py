"""Whole histories of a period's tickets, read in two statements (for replays in `sla/`).

`/sla simulate` replays every ticket of a period from its events, and the digest's breach
causes read who did what; one query per ticket would cost a round trip each (10,000 tickets
in a busy quarter), so the tickets and all their events come in two statements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sla.events import ClockEvent, EventKind
from sla.forecast import Waiting
from sla.history import TicketHistory
from sla.responders import ActorEvent
from sla.targets import Priority
from storage.models import Ticket, TicketEvent, TicketStatus
from storage.repositories.ticket_conditions import in_scope

_CLOCK_KINDS = {kind.value: kind for kind in EventKind}
_PRIORITIES = {priority.value: priority for priority in Priority}


@dataclass(frozen=True)
class StoredEvent:
    """One history entry with who made it (responders are told apart by `actor_id`)."""

    kind: str
    at: datetime
    actor_id: str | None
    priority: str | None
    note: str | None


@dataclass(frozen=True)
class PeriodTicket:
    """A ticket of the period with its whole history, oldest event first."""

    id: int
    key: str
    channel_id: str
    requester_id: str
    assignee_id: str | None
    events: tuple[StoredEvent, ...]

    def history(self) -> TicketHistory:
        """The ticket as `sla.simulation` replays it."""
        return TicketHistory(self.key, self.channel_id, clock_history(self.events),
                             self.assignee_id)


def clock_history(events: Iterable[StoredEvent]) -> tuple[ClockEvent, ...]:
    """The entries of a history that move the clock, as `sla.clock` reads them."""
    return tuple(
        ClockEvent(_CLOCK_KINDS[e.kind], e.at, _PRIORITIES[e.priority] if e.priority else None)
        for e in events
        if e.kind in _CLOCK_KINDS
    )


def actor_history(events: Iterable[StoredEvent]) -> tuple[ActorEvent, ...]:
    """A history with who did what, as `sla.responders` reads it."""
    return tuple(ActorEvent(e.kind, e.at, e.actor_id, e.note) for e in events)


def load_period_tickets(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    channel_id: str | None = None,
) -> list[PeriodTicket]:
    """Tickets created before `end` and not resolved before `start`, with their events."""
    scope = [*in_scope(workspace_id, channel_id), col(Ticket.created_at) < end,
             or_(col(Ticket.resolved_at).is_(None), col(Ticket.resolved_at) >= start)]
    # Core selects: SQLModel's select types four columns at most.
    tickets = session.execute(
        sa_select(col(Ticket.id), col(Ticket.key), col(Ticket.channel_id),
                  col(Ticket.requester_id), col(Ticket.assignee_id))
        .where(*scope)
        .order_by(col(Ticket.created_at), col(Ticket.id))
    ).all()
    events: dict[int | None, list[StoredEvent]] = {row[0]: [] for row in tickets}
    rows = session.execute(
        sa_select(col(TicketEvent.ticket_id), col(TicketEvent.kind), col(TicketEvent.at),
                  col(TicketEvent.actor_id), col(TicketEvent.priority), col(TicketEvent.note))
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(*scope)
        .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id))
    )
    for ticket_id, kind, at, actor_id, priority, note in rows:
        events[ticket_id].append(StoredEvent(kind, at, actor_id, priority, note))
    return [
        PeriodTicket(id_, key, channel, requester, assignee, tuple(events[id_]))
        for id_, key, channel, requester, assignee in tickets
        if id_ is not None
    ]


__all__ = ["PeriodTicket", "StoredEvent", "actor_history", "clock_history", "load_forecast_inputs",
           "load_period_tickets", "waiting_channels"]


def _waiting() -> ColumnElement[bool]:
    """Open (not paused) with a first or next response running: waiting for an answer."""
    first = and_(col(Ticket.first_response_due_at).is_not(None),
                 col(Ticket.first_response_stopped_at).is_(None))
    follow_up = and_(col(Ticket.next_response_due_at).is_not(None),
                     col(Ticket.next_response_started_at).is_not(None),
                     col(Ticket.next_response_stopped_at).is_(None))
    return and_(col(Ticket.status) == TicketStatus.OPEN.value, or_(first, follow_up))


def waiting_channels(*, session: Session, workspace_id: int) -> list[str]:
    """The channels of a workspace with a ticket waiting for an answer (the forecast's)."""
    return list(session.exec(
        select(Ticket.channel_id).where(*in_scope(workspace_id), _waiting())
        .distinct().order_by(col(Ticket.channel_id))
    ).all())


def load_forecast_inputs(
    *, session: Session, workspace_id: int, channel_id: str, now: datetime, weeks: int = 4,
) -> tuple[list[Waiting], list[datetime]]:
    """What the breach forecast needs of a channel: the tickets waiting for an answer (with
    the stored due instant of their running first or next response; paused ones have none)
    and the instants of the team's answers over the last `weeks` weeks."""
    rows = session.execute(
        sa_select(col(Ticket.key), col(Ticket.first_response_due_at),
                  col(Ticket.first_response_stopped_at), col(Ticket.next_response_due_at),
                  col(Ticket.next_response_started_at), col(Ticket.next_response_stopped_at))
        .where(*in_scope(workspace_id, channel_id), _waiting())
    ).all()
    waiting = []
    for key, first_due, first_stop, next_due, next_start, next_stop in rows:
        dues = [first_due] if first_due is not None and first_stop is None else []
        if next_due is not None and next_start is not None and next_stop is None:
            dues.append(next_due)
        if dues:
            waiting.append(Waiting(key, min(dues)))
    answers = list(session.exec(
        select(TicketEvent.at)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(Ticket.workspace_id == workspace_id, Ticket.channel_id == channel_id,
               TicketEvent.kind == EventKind.RESPONDED.value,
               TicketEvent.at >= now - timedelta(weeks=weeks), TicketEvent.at <= now)
    ).all())
    return waiting, answers
