"""A ticket's card in its thread: what it shows now, queuing its redraw, and notes beside it.

Cards are written by the outbox sender after the commit, never inside a unit of work: a
move only queues a redraw, and the sender renders the ticket as it is when it sends, so
close changes make one chat.update.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from commands.clocks import clock_of
from commands.deps import Deps
from commands.timezones import user_tz
from sla.clock import TicketClock
from storage.models import Ticket, stored_id
from storage.repositories import outbox as outbox_repo
from storage.repositories import workspaces as workspace_repo


def ticket_card(deps: Deps, ticket_id: int, now: datetime
                ) -> tuple[Ticket, TicketClock, str] | None:
    """What a ticket's card shows now: (ticket, clock, the requester's time zone).

    Read in its own unit of work, the time zone after it (users.info may be asked): the
    outbox sender calls this right before it draws and posts or updates a card.
    """
    with deps.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return None
        clock = clock_of(session, ticket, now)
        tz = workspace_repo.get_workspace_by_id(
            session=session, workspace_id=ticket.workspace_id).tz
        session.expunge(ticket)
    tz = user_tz(deps, ticket.requester_id, tz)
    return ticket, clock, tz


def queue_card_update(session: Session, ticket: Ticket, now: datetime,
                      because: str | None = None) -> None:
    """Queue a redraw of the ticket's card in the caller's unit of work."""
    outbox_repo.queue_card_update(session=session, ticket_id=stored_id(ticket),
                                  version=ticket.version, at=now, because=because)


def queue_thread_note(session: Session, ticket: Ticket, now: datetime, text: str) -> None:
    """Queue a short note in the ticket's thread in the caller's unit of work (`text` is
    mrkdwn made safe by the caller); one note per version of the ticket."""
    ticket_id = stored_id(ticket)
    outbox_repo.queue_write(
        session=session, key=f"note:{ticket_id}:v{ticket.version}", kind=outbox_repo.POST,
        ticket_id=ticket_id, channel_id=ticket.channel_id, thread_ts=ticket.thread_ts,
        text=text, at=now,
    )


def refresh_card(deps: Deps, ticket_id: int) -> None:
    """Queue a redraw of a ticket's card in a unit of work of its own (time alone moved it)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            queue_card_update(session, ticket, now, because=f"at{now.timestamp():.6f}")
    deps.wake_outbox()
