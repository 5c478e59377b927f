"""Reads only the portal needs: which channels have tickets, ticket titles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import Ticket, TicketRollup, TrackedChannel


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


def ticket_titles(*, session: Session, workspace_id: int, keys: Sequence[str]) -> dict[str, str]:
    """Ticket key -> title for the given keys of one workspace."""
    if not keys:
        return {}
    statement = select(Ticket.key, Ticket.title).where(
        Ticket.workspace_id == workspace_id, col(Ticket.key).in_(list(set(keys))))
    return {key: title for key, title in session.exec(statement)}
