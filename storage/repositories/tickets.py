"""Tickets: creation (one, or an intake batch), lookups, and the plain updates (card,
assignee). Their history is ``ticket_events``, the columns their clock decides
``ticket_clock``, the lists ``ticket_lists``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sla.breach import AT_RISK_FRACTION
from sla.clock import TicketClock, compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Priority
from storage.errors import DuplicateTicket, NotFound
from storage.models import Ticket, TicketStatus, Workspace, utcnow
from storage.repositories import rollups
from storage.repositories._sql import table_of
from storage.repositories.ticket_clock import FROM_CLOCK, NextDue, clock_columns
from storage.repositories.ticket_events import INSERT_EVENT

TITLE_LENGTH = 150
TEXT_LENGTH = 3000
_KEY_RE = re.compile(r"^\s*(?:(?P<prefix>[A-Za-z]+)-|#)?(?P<number>\d+)\s*$")


@dataclass(frozen=True)
class NewTicket:
    """One ticket for ``create_tickets``: what ``create_ticket`` takes, with its clock."""

    workspace_id: int
    channel_id: str
    message_ts: str
    requester_id: str
    priority: Priority
    created_at: datetime
    clock: TicketClock | None  # None: no targets yet (a ticket made without a policy)
    next_due_at: NextDue
    thread_ts: str | None = None
    text: str = ""
    title: str | None = None  # default: the first line of `text`
    source: str = "message"
    assignee_id: str | None = None
    permalink: str | None = None


def create_ticket(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str,
    message_ts: str,
    requester_id: str,
    priority: Priority | str,
    created_at: datetime,
    thread_ts: str | None = None,
    text: str = "",
    title: str | None = None,
    source: str = "message",
    assignee_id: str | None = None,
    permalink: str | None = None,
    policy: Policy | None = None,
    next_due_at: NextDue = FROM_CLOCK,
    clock: TicketClock | None = None,
) -> Ticket:
    """Create the ticket of one Slack message with its CREATED event, numbered SLA-n.

    The number comes from an atomic counter on the workspace. If the message already is a
    ticket, raises ``DuplicateTicket`` carrying the existing ticket and writes nothing. With
    ``policy`` the ticket is born with its targets, due instants and ``next_due_at`` (by
    default ``created_at``: the scheduler plans it at once; see ``apply_clock``); pass the
    ``clock`` already computed from its CREATED event to save computing it again.
    """
    priority = Priority.parse(priority)
    known = session.connection().execute(_TICKET_OF_MESSAGE, {
        "workspace_id": workspace_id, "channel_id": channel_id, "message_ts": message_ts,
    }).first()
    if known is not None:
        raise DuplicateTicket(get_ticket(session=session, ticket_id=known[0]))
    if policy is not None and clock is None:
        clock = compute_clock([ClockEvent(EventKind.CREATED, created_at, priority)], policy,
                              created_at)
    # Born with its clock (given a policy): inserted complete instead of updated after.
    ticket_id = _insert_one(session, NewTicket(
        workspace_id=workspace_id, channel_id=channel_id, message_ts=message_ts,
        requester_id=requester_id, priority=priority, created_at=created_at,
        clock=clock if policy is not None else None, next_due_at=next_due_at,
        thread_ts=thread_ts, text=text, title=title, source=source,
        assignee_id=assignee_id, permalink=permalink,
    ))
    # Read back rather than built: a loaded object costs a fraction of a constructed one.
    return get_ticket(session=session, ticket_id=ticket_id)


def _insert_one(session: Session, item: NewTicket) -> int:
    """Number and insert one ticket with its CREATED event under a savepoint; its id."""
    savepoint = session.begin_nested()
    try:
        # Core statements built once, on the session's connection: the ORM's flush and
        # statement building cost more than the statements themselves, and intake runs
        # this once per message. Asking the session for the connection again is what emits
        # the SAVEPOINT (begin_nested alone defers it).
        connection = session.connection()
        number, prefix = connection.execute(
            _RESERVE_NUMBERS, {"workspace_id": item.workspace_id, "count": 1}).one()
        row = _ticket_row(item, number, prefix)
        ticket_id: int = connection.execute(_INSERT_TICKET, row).scalar_one()
        connection.execute(INSERT_EVENT, _created_event(ticket_id, row))
        rollups.add_tickets(connection, [rollups.row_image({**row, "id": ticket_id})])
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        existing = get_ticket_by_message(
            session=session, workspace_id=item.workspace_id, channel_id=item.channel_id,
            message_ts=item.message_ts,
        )
        if existing is None:
            raise
        raise DuplicateTicket(existing) from None
    except Exception:
        savepoint.rollback()
        raise
    return ticket_id


def create_tickets(*, session: Session, new: Sequence[NewTicket]) -> list[Ticket | None]:
    """``create_ticket`` for many messages in a handful of statements (intake batches).

    Per workspace: one SELECT finds messages that already are tickets, one UPDATE reserves
    the numbers, one multi-row INSERT each for the tickets and their CREATED events. The
    result lines up with ``new``: the ticket, or None where the message already was a ticket
    (or appears earlier in ``new``). A ticket written meanwhile by another process raises
    ``IntegrityError`` (the unique key decides); the caller retries one by one.
    """
    results: list[Ticket | None] = [None] * len(new)
    by_workspace: dict[int, list[int]] = {}
    for index, item in enumerate(new):
        by_workspace.setdefault(item.workspace_id, []).append(index)
    created: list[tuple[int, dict[str, Any]]] = []
    for workspace_id, indexes in by_workspace.items():
        fresh = _fresh(session, workspace_id, [(i, new[i]) for i in indexes])
        if not fresh:
            continue
        last, prefix = session.connection().execute(_RESERVE_NUMBERS, {
            "workspace_id": workspace_id, "count": len(fresh),
        }).one()
        for number, index in enumerate(fresh, start=last - len(fresh) + 1):
            created.append((index, _ticket_row(new[index], number, prefix)))
    if not created:
        return results
    # A plain executemany, then one SELECT for the ids and objects: INSERT ... RETURNING in
    # parameter order would be sent row by row, and building ORM objects by hand costs
    # several times what loading them does. (workspace_id, number) is unique and the numbers
    # were reserved above, so the read-back finds exactly these rows.
    connection = session.connection()
    connection.execute(_INSERT_MANY, [row for _index, row in created])
    loaded = {(t.workspace_id, t.number): t for t in _read_back(session, created)}
    connection.execute(INSERT_EVENT, [
        _created_event(loaded[row["workspace_id"], row["number"]].id, row)
        for _index, row in created
    ])
    for index, row in created:
        results[index] = loaded[row["workspace_id"], row["number"]]
    rollups.add_tickets(connection, [
        rollups.row_image({**row, "id": loaded[row["workspace_id"], row["number"]].id})
        for _index, row in created
    ])
    return results


def _fresh(session: Session, workspace_id: int, items: list[tuple[int, NewTicket]]) -> list[int]:
    """The indexes of `items` whose message is not a ticket yet (nor earlier in `items`)."""
    statement = select(_TICKETS.c.channel_id, _TICKETS.c.message_ts).where(
        _TICKETS.c.workspace_id == workspace_id,
        _TICKETS.c.message_ts.in_(sorted({item.message_ts for _index, item in items})),
    )
    known = {(channel, ts) for channel, ts in session.connection().execute(statement)}
    fresh = []
    for index, item in items:
        key = (item.channel_id, item.message_ts)
        if key not in known:
            known.add(key)
            fresh.append(index)
    return fresh


def _read_back(session: Session, created: list[tuple[int, dict[str, Any]]]) -> list[Ticket]:
    """The tickets just inserted from `created` rows, loaded in the session."""
    numbers: dict[int, list[int]] = {}
    for _index, row in created:
        numbers.setdefault(row["workspace_id"], []).append(row["number"])
    found: list[Ticket] = []
    for workspace_id, taken in numbers.items():
        found.extend(session.exec(select(Ticket).where(
            Ticket.workspace_id == workspace_id,
            col(Ticket.number).between(min(taken), max(taken)),
        )))
    return found


def _ticket_row(item: NewTicket, number: int, prefix: str) -> dict[str, Any]:
    """Every column of a new ticket's row but its id, as the INSERT takes them."""
    row = dict(_BLANK_ROW)
    row.update(
        workspace_id=item.workspace_id,
        number=number,
        key=f"{prefix}-{number}",
        channel_id=item.channel_id,
        message_ts=item.message_ts,
        thread_ts=item.thread_ts or item.message_ts,
        requester_id=item.requester_id,
        assignee_id=item.assignee_id,
        priority=item.priority.value,
        title=_title(item.title if item.title is not None else item.text),
        text=item.text[:TEXT_LENGTH],
        source=item.source,
        permalink=item.permalink,
        created_at=item.created_at,
        updated_at=utcnow(),
    )
    if item.clock is not None:
        row.update(clock_columns(item.clock, item.next_due_at, AT_RISK_FRACTION))
    return row


def _created_event(ticket_id: int | None, row: dict[str, Any]) -> dict[str, Any]:
    """The CREATED history row of a ticket inserted from `row` (see `_ticket_row`)."""
    return {"ticket_id": ticket_id, "kind": EventKind.CREATED.value, "at": row["created_at"],
            "actor_id": row["requester_id"], "priority": row["priority"], "note": None}


def _title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= TITLE_LENGTH:
        return first_line
    return first_line[: TITLE_LENGTH - 1].rstrip() + "…"


_TICKETS = table_of(Ticket)
_WORKSPACES = table_of(Workspace)
# A new ticket's row before its own values: nothing measured yet, open, first version.
_BLANK_ROW: dict[str, Any] = {
    **{c.key: None for c in _TICKETS.columns if c.key != "id"},
    "status": TicketStatus.OPEN.value, "title": "", "text": "", "source": "message",
    "version": 1,
}
_TICKET_OF_MESSAGE = select(_TICKETS.c.id).where(
    _TICKETS.c.workspace_id == bindparam("workspace_id"),
    _TICKETS.c.channel_id == bindparam("channel_id"),
    _TICKETS.c.message_ts == bindparam("message_ts"),
)
# Takes `count` numbers of the workspace's counter at once; returns the last one taken.
_RESERVE_NUMBERS = (
    update(_WORKSPACES)
    .where(_WORKSPACES.c.id == bindparam("workspace_id"))
    .values(next_ticket_number=_WORKSPACES.c.next_ticket_number + bindparam("count"))
    .returning(_WORKSPACES.c.next_ticket_number - 1, _WORKSPACES.c.ticket_prefix)
)
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
_INSERT_MANY = insert(_TICKETS)
_SET_CARD_TS = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(card_ts=bindparam("card_ts"), version=_TICKETS.c.version + 1,
            updated_at=bindparam("updated_at"))
)


def get_ticket(*, session: Session, ticket_id: int, for_update: bool = False) -> Ticket:
    """The ticket with this id (locked for the rest of the unit of work with ``for_update``)."""
    statement = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        statement = statement.with_for_update()
    ticket = session.exec(statement).first()
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def get_ticket_by_key(*, session: Session, workspace_id: int, key: str) -> Ticket | None:
    """Find a ticket by its key as people type it: ``SLA-42``, ``sla-42``, ``#42`` or ``42``."""
    match = _KEY_RE.match(key or "")
    if match is None:
        return None
    return session.exec(
        select(Ticket).where(
            Ticket.workspace_id == workspace_id, Ticket.number == int(match["number"])
        )
    ).first()


def get_ticket_by_message(
    *, session: Session, workspace_id: int, channel_id: str, message_ts: str
) -> Ticket | None:
    """The ticket made from this Slack message, if any."""
    return session.exec(
        select(Ticket).where(
            Ticket.workspace_id == workspace_id,
            Ticket.channel_id == channel_id,
            Ticket.message_ts == message_ts,
        )
    ).first()


def newest_message_ts(*, session: Session, workspace_id: int, channel_id: str) -> str | None:
    """The latest Slack message ts among the channel's tickets (one seek of the unique
    (workspace, channel, message) index; ts strings of one era sort like their instants)."""
    return session.exec(
        select(func.max(Ticket.message_ts)).where(
            Ticket.workspace_id == workspace_id, Ticket.channel_id == channel_id
        )
    ).one()


def get_ticket_by_thread(
    *, session: Session, workspace_id: int, channel_id: str, thread_ts: str
) -> Ticket | None:
    """The ticket whose Slack thread is ``thread_ts`` (replies carry it), if any."""
    return session.exec(
        select(Ticket)
        .where(
            Ticket.workspace_id == workspace_id,
            Ticket.channel_id == channel_id,
            Ticket.thread_ts == thread_ts,
        )
        .order_by(col(Ticket.id))
    ).first()


def set_card_ts(*, session: Session, ticket_id: int, card_ts: str) -> None:
    """Remember the ts of the bot's card message of a ticket (to chat.update it), in one
    UPDATE by id (the ticket need not be loaded in this unit of work)."""
    session.connection().execute(
        _SET_CARD_TS, {"ticket_id": ticket_id, "card_ts": card_ts, "updated_at": utcnow()}
    )


def set_assignee(*, session: Session, ticket: Ticket, assignee_id: str | None) -> Ticket:
    """Assign the ticket (None unassigns)."""
    ticket.assignee_id = assignee_id
    ticket.touch()
    session.add(ticket)
    session.flush()
    return ticket
