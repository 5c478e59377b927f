"""A ticket's history: events appended as they happen (the ticket's plain facts kept in
step), read back for the clock, or imported at once for tickets whose past is known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from sla.events import ClockEvent, EventKind
from sla.responders import ASSIGNED
from sla.targets import Priority
from storage.errors import StorageError
from storage.mappers import clock_events
from storage.models import Ticket, TicketEvent, TicketStatus, utcnow
from storage.repositories import responder_rollups, rollups
from storage.repositories._sql import table_of

# Events that are history only (they do not move the clock), next to sla.clock.EventKind.
NOTE_EVENT_KINDS = frozenset({ASSIGNED, "note"})
_KINDS = frozenset(kind.value for kind in EventKind) | NOTE_EVENT_KINDS

INSERT_EVENT = insert(table_of(TicketEvent))
_TICKETS = table_of(Ticket)
_SET_MILESTONES = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(first_response_at=bindparam("b_first_response_at"),
            resolved_at=bindparam("b_resolved_at"))
)


def append_event(
    *,
    session: Session,
    ticket: Ticket,
    kind: EventKind | str,
    at: datetime,
    actor_id: str | None = None,
    priority: Priority | str | None = None,
    note: str | None = None,
) -> TicketEvent:
    """Add one event to a ticket's history and keep its plain facts in step.

    Facts: first response instant, resolved instant, status and priority (the daily rollups
    move with them). The SLA columns, and what the history credits or charges people with
    (the responder rollups), follow with ``apply_clock`` once the caller recomputed the
    clock; an assignment moves no clock, so it moves the responder rollups itself.
    """
    kind = str(kind.value if isinstance(kind, EventKind) else kind)
    if kind not in _KINDS:
        allowed = ", ".join([*(k.value for k in EventKind), *sorted(NOTE_EVENT_KINDS)])
        raise StorageError(f"unknown ticket event kind {kind!r}: use one of {allowed}")
    parsed = Priority.parse(priority) if priority is not None else None
    if kind == EventKind.PRIORITY_CHANGED and parsed is None:
        raise StorageError("a priority_changed event needs the new priority")
    if ticket.id is None:
        raise StorageError(f"ticket {ticket.key!r} is not stored yet: it has no history")
    event = TicketEvent(
        ticket_id=ticket.id, kind=kind, at=at, actor_id=actor_id,
        priority=parsed.value if parsed else None, note=note,
    )
    session.add(event)
    before = rollups.ticket_image(ticket)
    _keep_facts(ticket, kind, at, parsed, actor_id if note is None else note)
    ticket.touch()
    session.add(ticket)
    session.flush()
    rollups.track(session.connection(), before, rollups.ticket_image(ticket))
    if kind == ASSIGNED:
        responder_rollups.track(session, [event.ticket_id])
    return event


def _keep_facts(
    ticket: Ticket, kind: str, at: datetime, priority: Priority | None, assignee: str | None
) -> None:
    """The ticket's plain facts after an event of ``kind`` (see ``append_event``)."""
    if kind == EventKind.RESPONDED and ticket.first_response_at is None:
        ticket.first_response_at = at
    elif kind == EventKind.RESOLVED:
        ticket.resolved_at = at
        ticket.status = TicketStatus.RESOLVED.value
    elif kind == EventKind.REOPENED:
        ticket.resolved_at = None
        ticket.status = TicketStatus.OPEN.value
    elif kind == EventKind.PAUSED and ticket.status == TicketStatus.OPEN:
        ticket.status = TicketStatus.PAUSED.value
    elif kind == EventKind.RESUMED and ticket.status == TicketStatus.PAUSED:
        ticket.status = TicketStatus.OPEN.value
    elif kind == EventKind.PRIORITY_CHANGED and priority is not None:
        ticket.priority = priority.value
    elif kind == "assigned":
        ticket.assignee_id = assignee or None  # an empty note: assigned to nobody


def list_events(*, session: Session, ticket_id: int) -> list[TicketEvent]:
    """A ticket's history, oldest first (ties in insertion order)."""
    return list(
        session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
    )


def load_clock_events(*, session: Session, ticket_id: int) -> list[ClockEvent]:
    """The ticket's history as ``sla.clock`` events, ready for ``compute_clock``."""
    return clock_events(list_events(session=session, ticket_id=ticket_id))


class HistoryRow(TypedDict):
    """One past event of an imported ticket."""

    ticket_id: int
    kind: str
    at: datetime
    actor_id: str | None
    priority: str | None
    note: str | None


class Milestones(TypedDict):
    """When an imported ticket was first answered and resolved."""

    ticket_id: int
    first_response_at: datetime | None
    resolved_at: datetime | None


def add_history_events(*, session: Session, rows: Sequence[HistoryRow]) -> None:
    """Insert many history rows at once: importing tickets whose past is known, e.g. the
    demo's seed (the responder rollups move with them)."""
    if rows:
        now = utcnow()
        session.connection().execute(INSERT_EVENT, [{**row, "created_at": now} for row in rows])
        responder_rollups.track(session, {row["ticket_id"] for row in rows})


def set_milestones(*, session: Session, rows: Sequence[Milestones]) -> None:
    """Set ``first_response_at`` and ``resolved_at`` of many imported tickets in one
    executemany (the daily rollups move with the resolved instants)."""
    if not rows:
        return
    connection = session.connection()
    before = rollups.images(connection, [row["ticket_id"] for row in rows])
    connection.execute(_SET_MILESTONES, [
        {"ticket_id": row["ticket_id"], "b_first_response_at": row["first_response_at"],
         "b_resolved_at": row["resolved_at"]} for row in rows])
    delta = rollups.RollupDelta()
    for row in rows:
        old = before[row["ticket_id"]]
        delta.add(old, -1)
        delta.add(old._replace(resolved_at=row["resolved_at"]))
    delta.apply(connection)
