"""Ticket verbs: `list`, `ticket SLA-42`, `resolve|pause|resume|reopen SLA-42 [reason]`,
`priority SLA-42 P1`.

Moves go through the lifecycle service (one unit of work each, card updated in place).
A channel only reaches its own tickets: a key from another channel reads as "no such ticket
here", the same answer as a key that does not exist, so nothing leaks across channels.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from commands import lifecycle
from commands.errors import NotFound
from commands.lifecycle import TicketResult
from commands.parser import (
    ListFilter,
    parse_list,
    parse_set_priority,
    parse_ticket_action,
    parse_ticket_ref,
)
from commands.render import HistoryEntry, render_ticket_detail, render_ticket_list
from commands.request import Reply, Verb, VerbRequest
from commands.text import quote
from commands.timezones import user_tz
from commands.views import METRIC_LABELS, due_text
from sla.transitions import InvalidTransition
from storage import repositories as repo
from storage.models import Ticket
from storage.repositories.ticket_counts import count_open_tickets

LIST_USAGE = "/sla list [open|at-risk|breached|mine]"
TICKET_USAGE = "/sla ticket SLA-42"
PRIORITY_USAGE = "/sla priority SLA-42 P1"
MOVE_USAGES = {
    "resolve": "/sla resolve SLA-42 [reason]",
    "pause": "/sla pause SLA-42 [reason]",
    "resume": "/sla resume SLA-42 [reason]",
    "reopen": "/sla reopen SLA-42 [reason]",
}
# Rows read per list (the oldest); the answer shows the 20 most urgent and the true total.
LIST_LIMIT = 500


def ticket_key(number: int) -> str:
    """The key people see for ticket `number`."""
    return f"SLA-{number}"


def _not_here(key: str, channel_id: str) -> NotFound:
    return NotFound(f"There is no ticket {key} in <#{channel_id}>. Try `/sla list`.")


def _reader_tz(request: VerbRequest, fallback: str | None = None) -> str:
    """The reader's Slack time zone, else the channel's business-hours zone."""
    if fallback is None:
        with request.deps.unit_of_work() as session:
            workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
            fallback = repo.get_policy(
                session=session, workspace_id=workspace.id, channel_id=request.channel_id
            ).calendar.tz
    return user_tz(request.deps, request.user_id, fallback)


def _check_here(request: VerbRequest, key: str) -> None:
    """Raise NotFound unless ticket `key` exists and belongs to the request's channel."""
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        ticket = repo.get_ticket_by_key(session=session, workspace_id=workspace.id, key=key)
        if ticket is None or ticket.channel_id != request.channel_id:
            raise _not_here(key, request.channel_id)


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


def handle_list(request: VerbRequest) -> Reply:
    """Tickets of this channel: open, at risk, past their SLA, or the user's own."""
    which = parse_list(request.args, LIST_USAGE)
    now = request.deps.clock.now()
    scope: dict[str, Any] = {"channel_id": request.channel_id, "limit": LIST_LIMIT}
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        scope["workspace_id"] = workspace.id
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
                session=session, workspace_id=workspace.id, channel_id=request.channel_id,
                now=now,
            )
            total = {ListFilter.AT_RISK: counts.at_risk, ListFilter.BREACHED: counts.breached,
                     ListFilter.OPEN: counts.open}[which]
        policy = repo.get_policy(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id
        )
    # The lists come oldest first; people want the most urgent first.
    tickets = sorted(tickets, key=_urgency)
    return render_ticket_list(
        tickets, which, channel_id=request.channel_id,
        tz=_reader_tz(request, policy.calendar.tz), now=now, total=total,
    )


# -- one ticket -------------------------------------------------------------------------------


def handle_ticket(request: VerbRequest) -> Reply:
    """One ticket of this channel with its clocks."""
    key = ticket_key(parse_ticket_ref(request.args, TICKET_USAGE))
    try:
        result = lifecycle.get_ticket(request.deps, team_id=request.team_id, key=key)
    except NotFound:
        raise _not_here(key, request.channel_id) from None
    if result.ticket.channel_id != request.channel_id:
        raise _not_here(key, request.channel_id)
    with request.deps.unit_of_work() as session:
        history = [
            HistoryEntry(at=e.at, kind=e.kind, actor_id=e.actor_id, priority=e.priority,
                         note=e.note)
            for e in repo.list_events(session=session, ticket_id=result.ticket.id)
        ]
    now = request.deps.clock.now()
    tz = _reader_tz(request)
    return render_ticket_detail(result.ticket, result.clock, tz, now, history)


# -- moves ------------------------------------------------------------------------------------


def _summary(result: TicketResult, request: VerbRequest) -> str:
    """How the ticket stands after a move, one metric per line."""
    now = request.deps.clock.now()
    tz = _reader_tz(request)
    return "\n".join(
        f"• {METRIC_LABELS[metric]}: {due_text(clock, tz, now)}"
        for metric, clock in result.clock.metrics.items()
    )


_MOVES: dict[str, tuple[Callable[..., TicketResult], str]] = {
    "resolve": (lifecycle.resolve, ":white_check_mark: {key} is resolved"),
    "pause": (lifecycle.pause, ":double_vertical_bar: {key} is paused: no SLA clock runs"),
    "resume": (lifecycle.resume, ":arrow_forward: {key} is running again"),
    "reopen": (lifecycle.reopen, ":leftwards_arrow_with_hook: {key} is open again"),
}


def handle_move(request: VerbRequest) -> Reply:
    """Resolve, pause, resume or reopen a ticket of this channel."""
    usage = MOVE_USAGES[request.verb]
    parsed = parse_ticket_action(request.args, usage)
    key = ticket_key(parsed.number)
    _check_here(request, key)
    move, done = _MOVES[request.verb]
    try:
        result = move(request.deps, team_id=request.team_id, user_id=request.user_id, key=key,
                      reason=parsed.reason)
    except InvalidTransition as exc:
        return Reply(text=f":information_source: {exc}", public=False)
    text = done.format(key=result.ticket.key)
    if parsed.reason:
        text += f" ({quote(parsed.reason, 200)})"
    return Reply(text=f"{text}.\n{_summary(result, request)}")


def handle_priority(request: VerbRequest) -> Reply:
    """Change a ticket's priority; running clocks switch to the new targets."""
    parsed = parse_set_priority(request.args, PRIORITY_USAGE)
    key = ticket_key(parsed.number)
    _check_here(request, key)
    try:
        result = lifecycle.set_priority(
            request.deps, team_id=request.team_id, user_id=request.user_id,
            priority=parsed.priority, key=key,
        )
    except InvalidTransition as exc:
        return Reply(text=f":information_source: {exc}", public=False)
    if not result.changed:
        return Reply(text=f"{result.ticket.key} is already {parsed.priority}; nothing changed.",
                     public=False)
    return Reply(
        text=f":arrows_counterclockwise: {result.ticket.key} is now {parsed.priority}.\n"
        f"{_summary(result, request)}"
    )


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
    Verb(
        name="resolve",
        usage=(MOVE_USAGES["resolve"],),
        free_text=True,
        summary="close a ticket: its resolution clock stops",
        handler=handle_move,
    ),
    Verb(
        name="pause",
        usage=(MOVE_USAGES["pause"],),
        free_text=True,
        summary="stop a ticket's clocks, e.g. while waiting for the requester",
        handler=handle_move,
    ),
    Verb(
        name="resume",
        usage=(MOVE_USAGES["resume"],),
        free_text=True,
        summary="restart a paused ticket's clocks",
        handler=handle_move,
    ),
    Verb(
        name="reopen",
        usage=(MOVE_USAGES["reopen"],),
        free_text=True,
        summary="reopen a resolved ticket: its resolution clock continues where it stopped",
        handler=handle_move,
    ),
    Verb(
        name="priority",
        usage=(PRIORITY_USAGE,),
        summary="change a ticket's priority; running clocks switch to the new targets",
        handler=handle_priority,
    ),
)
