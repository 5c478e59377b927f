"""Reads only the portal needs: which channels have tickets, who answered and resolved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Ticket, TicketEvent, TicketRollup, TrackedChannel


def channels_with_tickets(*, session: Session, workspace_id: int) -> list[str]:
    """Ids of channels that are tracked or have tickets, sorted. Every ticket counts one
    creation in its channel's daily rollups: those are read, a few rows a day, rather than
    every ticket of the workspace."""
    ticketed = session.exec(
        select(TicketRollup.channel_id)
        .where(TicketRollup.workspace_id == workspace_id, TicketRollup.created > 0)
        .distinct()
    )
    tracked = session.exec(
        select(TrackedChannel.channel_id).where(TrackedChannel.workspace_id == workspace_id)
    )
    return sorted(set(ticketed) | set(tracked))


def ticket_acts(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    kinds: Sequence[str],
) -> list[tuple[str, str, str | None]]:
    """(ticket key, event kind, actor) of events of `kinds` in [start, end), oldest first."""
    statement = (
        select(Ticket.key, TicketEvent.kind, TicketEvent.actor_id)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(Ticket.workspace_id == workspace_id, col(TicketEvent.kind).in_(list(kinds)),
               TicketEvent.at >= start, TicketEvent.at < end)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    )
    return [(key, kind, actor) for key, kind, actor in session.exec(statement)]


def ticket_titles(*, session: Session, workspace_id: int, keys: Sequence[str]) -> dict[str, str]:
    """Ticket key -> title for the given keys of one workspace."""
    if not keys:
        return {}
    statement = select(Ticket.key, Ticket.title).where(
        Ticket.workspace_id == workspace_id, col(Ticket.key).in_(list(set(keys))))
    return {key: title for key, title in session.exec(statement)}


def first_responders(
    *, session: Session, workspace_id: int, keys: Sequence[str]
) -> dict[str, tuple[str | None, datetime]]:
    """Ticket key -> (who, when) of its first response (the earliest `responded` event)."""
    found: dict[str, tuple[str | None, datetime]] = {}
    unique = sorted(set(keys))
    for begin in range(0, len(unique), 500):  # keep IN lists short on both engines
        statement = (
            select(Ticket.key, TicketEvent.actor_id, TicketEvent.at)
            .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
            .where(Ticket.workspace_id == workspace_id,
                   col(Ticket.key).in_(unique[begin:begin + 500]),
                   TicketEvent.kind == "responded")
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
        for key, actor, at in session.exec(statement):
            found.setdefault(key, (actor, at))
    return found
