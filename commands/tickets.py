"""Ticket verbs: `list`, `ticket SLA-42`, `resolve|pause|resume|reopen SLA-42 [reason]`,
`priority SLA-42 P1`, and the same moves from the card's buttons.

Moves go through the lifecycle service (one unit of work each, card updated in place).
A channel only reaches its own tickets: a key from another channel reads as "no such ticket
here", the same answer as a key that does not exist, so nothing leaks across channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from commands import lifecycle
from commands.cards import queue_thread_note
from commands.deps import Deps
from commands.errors import NotFound, UsageError
from commands.lifecycle import TicketResult
from commands.parser import clip, no_extra, parse_priority, parse_ticket_number, parse_ticket_ref
from commands.request import Message, Result, Verb, VerbRequest
from commands.text import quote
from commands.timezones import user_tz
from sla.clock import TicketClock
from sla.targets import Priority
from sla.transitions import InvalidTransition
from storage import repositories as repo
from storage.models import Ticket, stored_id
from storage.repositories.ticket_counts import count_open_tickets

LIST_USAGE = "/sla list [open|at-risk|breached|mine]"
TICKET_USAGE = "/sla ticket SLA-42"
PRIORITY_USAGE = "/sla priority SLA-42 P1"
MOVE_USAGES = {move: f"/sla {move} SLA-42 [reason]" for move in ("resolve", "pause", "resume",
                                                                   "reopen")}
# Rows read per list (the oldest); the answer shows the 20 most urgent and the true total.
LIST_LIMIT = 500


# -- grammar ----------------------------------------------------------------------------------


class ListFilter(StrEnum):
    """Which tickets `/sla list` shows."""

    OPEN = "open"
    AT_RISK = "at-risk"
    BREACHED = "breached"
    MINE = "mine"


def parse_list(args: tuple[str, ...], usage: str) -> ListFilter:
    """Read the list filter (default `open`)."""
    no_extra(args, 1, usage)
    if not args:
        return ListFilter.OPEN
    word = args[0].lower().replace("_", "-")
    if word == "atrisk":
        word = "at-risk"
    try:
        return ListFilter(word)
    except ValueError:
        choices = ", ".join(f.value for f in ListFilter)
        raise UsageError(f"`{clip(args[0])}` is not a list filter: use {choices}", usage) from None


@dataclass(frozen=True)
class TicketActionArgs:
    """`resolve|pause|resume|reopen SLA-42 [reason]`."""

    number: int
    reason: str | None


def parse_ticket_action(args: tuple[str, ...], usage: str) -> TicketActionArgs:
    """A ticket key followed by an optional free-text reason."""
    if not args:
        raise UsageError("which ticket? Name it like SLA-42", usage)
    reason = " ".join(args[1:]).strip() or None
    return TicketActionArgs(number=parse_ticket_number(args[0], usage), reason=reason)


@dataclass(frozen=True)
class PriorityArgs:
    """`priority SLA-42 P1`."""

    number: int
    priority: Priority


def parse_set_priority(args: tuple[str, ...], usage: str) -> PriorityArgs:
    """A ticket key and the new priority."""
    if len(args) < 2:
        raise UsageError("name the ticket and the new priority", usage)
    no_extra(args, 2, usage)
    return PriorityArgs(parse_ticket_number(args[0], usage), parse_priority(args[1], usage))


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketList(Result):
    """Tickets of a channel matching `which`, most urgent first; `total` says how many matched."""

    tickets: tuple[Ticket, ...]
    which: ListFilter
    channel_id: str
    tz: str
    now: datetime
    total: int


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a ticket's history: what happened, when, who did it, why."""

    at: datetime
    kind: str
    actor_id: str | None = None
    priority: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class TicketDetail(Result):
    """One ticket with its clocks and its history, in the reader's time zone."""

    ticket: Ticket
    clock: TicketClock
    tz: str
    now: datetime
    history: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True)
class TicketMoved(Result):
    """A ticket resolved, paused, resumed or reopened (`move` is the verb), and its clocks now."""

    move: str
    key: str
    reason: str | None
    clock: TicketClock
    tz: str
    now: datetime


@dataclass(frozen=True)
class PriorityChanged(Result):
    """A ticket's new priority and its clocks against the new targets."""

    key: str
    priority: Priority
    clock: TicketClock
    tz: str
    now: datetime


def ticket_key(number: int) -> str:
    """The key people see for ticket `number`."""
    return f"SLA-{number}"


def _not_here(key: str, channel_id: str) -> NotFound:
    return NotFound(f"There is no ticket {quote(key, 40)} in <#{channel_id}>. Try `/sla list`.")


def _reader_tz(request: VerbRequest, fallback: str | None = None) -> str:
    """The reader's Slack time zone, else the channel's business-hours zone."""
    if fallback is None:
        with request.deps.unit_of_work() as session:
            workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
            fallback = repo.get_policy(
                session=session, workspace_id=stored_id(workspace), channel_id=request.channel_id
            ).calendar.tz
    return user_tz(request.deps, request.user_id, fallback)


def _ticket_in(deps: Deps, *, team_id: str, key: str, channel_id: str | None,
               missing: NotFound) -> TicketResult:
    """Ticket `key` and its clock, if it belongs to `channel_id`; else `missing` is raised.

    Another channel's ticket gets the same answer as an unknown key, so nobody learns
    anything about tickets elsewhere (a crafted button payload included).
    """
    try:
        found = lifecycle.get_ticket(deps, team_id=team_id, key=key)
    except NotFound:
        raise missing from None
    if found.ticket.channel_id != channel_id:
        raise missing
    return found


def ticket_here(request: VerbRequest, key: str) -> TicketResult:
    """Ticket `key` of the request's channel (NotFound otherwise)."""
    return _ticket_in(request.deps, team_id=request.team_id, key=key,
                      channel_id=request.channel_id, missing=_not_here(key, request.channel_id))


# -- list -------------------------------------------------------------------------------------


def _urgency(ticket: Ticket) -> tuple[int, datetime | None, int]:
    dues = [
        due
        for due, stopped in (
            (ticket.first_response_due_at, ticket.first_response_stopped_at),
            (ticket.resolution_due_at, ticket.resolution_stopped_at),
            (ticket.next_response_due_at, ticket.next_response_stopped_at),
        )
        if due is not None and stopped is None
    ]
    soonest = min(dues, default=None)
    # Paused tickets (no due instant) go after those with a clock running.
    return (soonest is None, soonest, ticket.number)


def handle_list(request: VerbRequest) -> TicketList:
    """Tickets of this channel: open, at risk, past their SLA, or the user's own."""
    which = parse_list(request.args, LIST_USAGE)
    now = request.deps.clock.now()
    scope: dict[str, Any] = {"channel_id": request.channel_id, "limit": LIST_LIMIT}
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        scope["workspace_id"] = stored_id(workspace)
        if which is ListFilter.MINE:
            tickets = repo.list_open_tickets(session=session, involving=request.user_id,
                                             **scope)
            total = len(tickets)
        else:
            if which is ListFilter.AT_RISK:
                tickets = repo.list_at_risk_tickets(session=session, now=now, **scope)
            elif which is ListFilter.BREACHED:
                tickets = repo.list_breached_tickets(session=session, now=now, **scope)
            else:
                tickets = repo.list_open_tickets(session=session, **scope)
            counts = count_open_tickets(
                session=session, workspace_id=stored_id(workspace), channel_id=request.channel_id,
                now=now,
            )
            total = {ListFilter.AT_RISK: counts.at_risk, ListFilter.BREACHED: counts.breached,
                     ListFilter.OPEN: counts.open}[which]
        policy = repo.get_policy(
            session=session, workspace_id=stored_id(workspace), channel_id=request.channel_id
        )
    # The lists come oldest first; people want the most urgent first.
    return TicketList(tuple(sorted(tickets, key=_urgency)), which, request.channel_id,
                      _reader_tz(request, policy.calendar.tz), now, total)


# -- one ticket -------------------------------------------------------------------------------


def handle_ticket(request: VerbRequest) -> TicketDetail:
    """One ticket of this channel with its clocks."""
    result = ticket_here(request, ticket_key(parse_ticket_ref(request.args, TICKET_USAGE)))
    with request.deps.unit_of_work() as session:
        history = tuple(
            HistoryEntry(at=e.at, kind=e.kind, actor_id=e.actor_id, priority=e.priority,
                         note=e.note)
            for e in repo.list_events(session=session, ticket_id=stored_id(result.ticket))
        )
    now = request.deps.clock.now()
    return TicketDetail(result.ticket, result.clock, _reader_tz(request), now, history)


# -- moves ------------------------------------------------------------------------------------


_MOVES: dict[str, tuple[Callable[..., TicketResult], str]] = {
    "resolve": (lifecycle.resolve, "close a ticket: its resolution clock stops"),
    "pause": (lifecycle.pause, "stop a ticket's clocks, e.g. while waiting for the requester"),
    "resume": (lifecycle.resume, "restart a paused ticket's clocks"),
    "reopen": (lifecycle.reopen,
               "reopen a resolved ticket: its resolution clock continues where it stopped"),
}


def handle_move(request: VerbRequest) -> Result:
    """Resolve, pause, resume or reopen a ticket of this channel."""
    usage = MOVE_USAGES[request.verb]
    parsed = parse_ticket_action(request.args, usage)
    key = ticket_key(parsed.number)
    ticket_here(request, key)
    move, _ = _MOVES[request.verb]
    try:
        result = move(request.deps, team_id=request.team_id, user_id=request.user_id, key=key,
                      reason=parsed.reason)
    except InvalidTransition as exc:
        return Message(f":information_source: {exc}", public=False)
    return TicketMoved(request.verb, result.ticket.key, parsed.reason, result.clock,
                       _reader_tz(request), request.deps.clock.now())


def handle_priority(request: VerbRequest) -> Result:
    """Change a ticket's priority; running clocks switch to the new targets."""
    parsed = parse_set_priority(request.args, PRIORITY_USAGE)
    key = ticket_key(parsed.number)
    ticket_here(request, key)
    try:
        result = lifecycle.set_priority(
            request.deps, team_id=request.team_id, user_id=request.user_id,
            priority=parsed.priority, key=key,
        )
    except InvalidTransition as exc:
        return Message(f":information_source: {exc}", public=False)
    if not result.changed:
        return Message(f"{result.ticket.key} is already {parsed.priority}; nothing changed.",
                       public=False)
    return PriorityChanged(result.ticket.key, parsed.priority, result.clock,
                           _reader_tz(request), request.deps.clock.now())


# -- card buttons -----------------------------------------------------------------------------
# A press is stored in the inbox before Slack gets its ack (bot/inbox.py); its worker calls
# these (the card redraw and any thread note are queued in the outbox in the same unit of
# work). A button moves only a ticket of the channel it was pressed in (the card in the
# thread, or the `/sla ticket` card there): a channel only ever sees its own tickets.


def press_priority(deps: Deps, *, team_id: str, user_id: str, key: str, pressed_in: str | None,
                   priority: Priority) -> None:
    """A priority button: the thread is told who changed it and from what."""
    was = ticket_pressed(deps, team_id=team_id, key=key, pressed_in=pressed_in).clock.priority
    # The requester may raise it, not lower it (lifecycle).
    result = lifecycle.set_priority(deps, team_id=team_id, user_id=user_id, key=key,
                                    priority=priority)
    if result.changed:
        _note_in_thread(deps, result.ticket,
                        f"Priority set to {priority} by <@{user_id}> (was {was})")


def press_move(deps: Deps, move: str, *, team_id: str, user_id: str, key: str,
               pressed_in: str | None) -> None:
    """A pause, resume, resolve or reopen button (`move` is the verb's name)."""
    ticket_pressed(deps, team_id=team_id, key=key, pressed_in=pressed_in)
    act, _ = _MOVES[move]
    act(deps, team_id=team_id, user_id=user_id, key=key)


def ticket_pressed(deps: Deps, *, team_id: str, key: str,
                   pressed_in: str | None) -> TicketResult:
    """The ticket a button was pressed for, if it belongs to the channel it was pressed in."""
    return _ticket_in(deps, team_id=team_id, key=key, channel_id=pressed_in,
                      missing=NotFound(f"There is no ticket {quote(key, 40)} in this workspace."))


def _note_in_thread(deps: Deps, ticket: Ticket, text: str) -> None:
    # Queued with the change it reports (one note per version of the ticket).
    with deps.unit_of_work() as session:
        queue_thread_note(session, ticket, deps.clock.now(), text)
    deps.wake_outbox()


VERBS = (
    Verb(
        name="list",
        usage=(LIST_USAGE,),
        summary="tickets of this channel, most urgent first (default: open)",
        details="`at-risk`: 80% of a target used or due within the hour. `breached`: past a "
        "target. `mine`: open tickets you asked for or are assigned to.",
        handler=handle_list,
    ),
    Verb(
        name="ticket",
        usage=(TICKET_USAGE,),
        summary="one ticket of this channel with its due times",
        handler=handle_ticket,
    ),
    *(
        Verb(name=name, usage=(MOVE_USAGES[name],), free_text=True, summary=summary,
             handler=handle_move)
        for name, (_move, summary) in _MOVES.items()
    ),
    Verb(
        name="priority",
        usage=(PRIORITY_USAGE,),
        summary="change a ticket's priority; running clocks switch to the new targets",
        handler=handle_priority,
    ),
)
