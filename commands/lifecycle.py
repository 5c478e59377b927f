"""Ticket moves: every way an existing ticket changes goes through here.

Event listeners, card buttons and `/sla` verbs call these functions (a ticket is born in
`commands.intake`). Each move is one unit of work: lock the ticket, let `sla.transitions`
decide the event from the clock before the change, append it, recompute the clock, store
status + due columns + `next_due_at`, and queue the card's redraw in the outbox, in that
same unit of work. Assigning is the one change that moves no clock: it appends an
`assigned` history entry and queues the redraw and a note in the thread. No Slack call
happens here: the outbox sender delivers after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from commands.cards import queue_card_update, queue_thread_note
from commands.clocks import clock_of, policy_of
from commands.deps import Deps
from commands.errors import NotFound, PermissionDenied
from commands.text import quote, user_mention
from sla import transitions
from sla.clock import TicketClock
from sla.events import EventKind
from sla.policy import Policy
from sla.responders import ASSIGNED
from sla.targets import Priority
from sla.transitions import LoweringRefused, Move
from storage.models import Ticket, Workspace, stored_id
from storage.repositories import ticket_clock as clock_repo
from storage.repositories import ticket_events as event_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo


@dataclass(frozen=True)
class TicketResult:
    """A ticket after a change: the row (detached), its clock, and what happened."""

    ticket: Ticket
    clock: TicketClock
    created: bool = False
    changed: bool = True


# A decision looks at the ticket, its clock before the change, its policy and the instant,
# and returns the event to append, None for "nothing to do", or raises (move refused).
Decide = Callable[[Ticket, TicketClock, Policy, datetime], Move | None]
# Finds the ticket a move is about in a workspace: None when there is none and that is fine.
Locate = Callable[[Session, Workspace], Ticket | None]


def record_response(deps: Deps, *, team_id: str, channel_id: str, thread_ts: str,
                    user_id: str, responders: frozenset[str] = frozenset()
                    ) -> TicketResult | None:
    """A reply (or `:eyes:`) in a ticket's thread: first response, or stops next response.

    Replies by the requester go to `requester_replied` instead; None when the thread is no
    ticket. The first responder becomes the assignee when nobody is.
    """

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy, now: datetime
               ) -> Move | None:
        if ticket.requester_id == user_id and user_id not in responders:
            return None
        return transitions.team_response(clock)

    return _apply(deps, decide, team_id=team_id, user_id=user_id,
                  locate=_in_thread(channel_id, thread_ts), assign_to=user_id)


def requester_replied(deps: Deps, *, team_id: str, channel_id: str, thread_ts: str,
                      user_id: str) -> TicketResult | None:
    """The requester wrote in the thread (see `sla.transitions.requester_reply`)."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy, now: datetime
               ) -> Move | None:
        if ticket.requester_id != user_id:
            return None
        return transitions.requester_reply(clock, policy, resolved_at=ticket.resolved_at,
                                           now=now)

    return _apply(deps, decide, team_id=team_id, user_id=user_id,
                  locate=_in_thread(channel_id, thread_ts))


def pause(deps: Deps, *, team_id: str, user_id: str, key: str,
          reason: str | None = None) -> TicketResult:
    """Stop every clock of the ticket until `resume`."""
    return _by_hand(deps, EventKind.PAUSED, team_id, user_id, key, reason)


def resume(deps: Deps, *, team_id: str, user_id: str, key: str,
           reason: str | None = None) -> TicketResult:
    """Restart the clocks of a paused ticket."""
    return _by_hand(deps, EventKind.RESUMED, team_id, user_id, key, reason)


def resolve(deps: Deps, *, team_id: str, user_id: str, key: str, reason: str | None = None,
            quiet: bool = False) -> TicketResult:
    """Close the ticket: its resolution clock stops (a paused ticket is resumed first).

    With `quiet`, resolving an already resolved ticket is a no-op instead of an error.
    """
    return _by_hand(deps, EventKind.RESOLVED, team_id, user_id, key, reason, quiet=quiet)


def reopen(deps: Deps, *, team_id: str, user_id: str, key: str,
           reason: str | None = None) -> TicketResult:
    """Reopen a resolved ticket: its resolution clock continues where it stopped."""
    return _by_hand(deps, EventKind.REOPENED, team_id, user_id, key, reason)


def set_priority(deps: Deps, *, team_id: str, user_id: str, priority: Priority | str,
                 key: str) -> TicketResult:
    """Change the ticket's priority: running metrics switch to the new targets."""
    new = Priority.parse(priority)

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy, now: datetime
               ) -> Move | None:
        try:
            return transitions.change_priority(ticket.key, clock, new,
                                               by_requester=user_id == ticket.requester_id)
        except LoweringRefused as refused:
            raise PermissionDenied(str(refused)) from None

    return _found(_apply(deps, decide, team_id=team_id, user_id=user_id, locate=_by_key(key)))


def assign(deps: Deps, *, team_id: str, user_id: str, key: str,
           assignee_id: str | None) -> TicketResult:
    """Give the ticket to `assignee_id` (None: to nobody); the thread is told who did it.

    The `assigned` history entry is what responder figures read to charge a breach to the
    person assigned at that instant. Giving it to whoever has it already changes nothing.
    """
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        ticket = _locked(session, team_id, _by_key(key))
        assert ticket is not None  # by key: NotFound is raised instead
        clock = clock_of(session, ticket, now)
        was = ticket.assignee_id or None
        if was == assignee_id:
            return TicketResult(ticket, clock, changed=False)
        # An empty note names nobody (a missing one would name the actor).
        event_repo.append_event(session=session, ticket=ticket, kind=ASSIGNED, at=now,
                                actor_id=user_id, note=assignee_id or "")
        queue_card_update(session, ticket, now)
        queue_thread_note(session, ticket, now,
                          assignment_note(assignee_id, by=user_id, was=was))
    deps.wake_outbox()
    return TicketResult(ticket, clock)


def assignment_note(assignee_id: str | None, *, by: str, was: str | None) -> str:
    """`Assigned to @ann by @bo (was @cy)`, `Taken by @ann`, `Unassigned by @bo (was @ann)`."""
    if assignee_id is None:
        text = f"Unassigned by {user_mention(by)}"
    elif assignee_id == by:
        text = f"Taken by {user_mention(by)}"
    else:
        text = f"Assigned to {user_mention(assignee_id)} by {user_mention(by)}"
    return f"{text} (was {user_mention(was)})" if was else text


def get_ticket(deps: Deps, *, team_id: str, key: str) -> TicketResult:
    """A ticket and its clock now, by key (`SLA-42`, `42`); NotFound when there is none."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        ticket = _by_key(key)(session, workspace)
        return TicketResult(ticket, clock_of(session, ticket, now), changed=False)


def _by_hand(deps: Deps, kind: EventKind, team_id: str, user_id: str, key: str,
             reason: str | None, *, quiet: bool = False) -> TicketResult:
    """A move someone asked for by verb, button or reaction (see `sla.transitions.by_hand`)."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy, now: datetime
               ) -> Move | None:
        return transitions.by_hand(kind, ticket.key, clock, reason=reason, quiet=quiet)

    return _found(_apply(deps, decide, team_id=team_id, user_id=user_id, locate=_by_key(key)))


def _apply(deps: Deps, decide: Decide, *, team_id: str, user_id: str | None, locate: Locate,
           assign_to: str | None = None) -> TicketResult | None:
    """One unit of work moving one ticket; see the module docstring."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        ticket = _locked(session, team_id, locate)
        if ticket is None:
            return None
        policy = policy_of(session, ticket)
        before = clock_of(session, ticket, now, policy=policy)
        move = decide(ticket, before, policy, now)
        if move is None:
            return TicketResult(ticket, before, changed=False)
        event_repo.append_event(
            session=session, ticket=ticket, kind=move.kind, at=now, actor_id=user_id,
            priority=move.priority, note=move.note,
        )
        if assign_to and not ticket.assignee_id:
            # An assignment like any other: responder figures charge breaches from history.
            event_repo.append_event(session=session, ticket=ticket, kind=ASSIGNED, at=now,
                                    actor_id=assign_to, note=assign_to)
        clock = clock_of(session, ticket, now, policy=policy)
        clock_repo.apply_clock(session=session, ticket=ticket, clock=clock, policy=policy)
        queue_card_update(session, ticket, now)
    # Inside an outer unit of work (the inbox worker) these run before its commit; the
    # worker wakes both again once it committed.
    deps.wake_outbox()
    deps.wake_scheduler()
    return TicketResult(ticket, clock)


def _locked(session: Session, team_id: str, locate: Locate) -> Ticket | None:
    """The ticket `locate` finds, its row locked: a reply and a reaction arriving together
    must not interleave."""
    workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
    found = locate(session, workspace)
    if found is None or found.id is None:
        return None
    return ticket_repo.get_ticket(session=session, ticket_id=found.id, for_update=True)


def _by_key(key: str) -> Callable[[Session, Workspace], Ticket]:
    """The ticket named `key` (`SLA-42`, `#42`, `42`), or NotFound naming it as the
    workspace writes its keys."""

    def locate(session: Session, workspace: Workspace) -> Ticket:
        found = ticket_repo.get_ticket_by_key(
            session=session, workspace_id=stored_id(workspace), key=key)
        if found is None:
            raise NotFound(f"There is no ticket {_shown_key(workspace, key)} in this workspace.")
        return found

    return locate


def _in_thread(channel_id: str, thread_ts: str) -> Locate:
    """The ticket of a thread (or of the message at `thread_ts`); None when it is no ticket."""

    def locate(session: Session, workspace: Workspace) -> Ticket | None:
        workspace_id = stored_id(workspace)
        return ticket_repo.get_ticket_by_thread(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            thread_ts=thread_ts,
        ) or ticket_repo.get_ticket_by_message(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            message_ts=thread_ts,
        )

    return locate


def _shown_key(workspace: Workspace, key: str) -> str:
    """`key` as this workspace writes it: `OPS-42` for `SLA-42`, `#42` or `42`."""
    number = key.strip().rsplit("-", 1)[-1].lstrip("#")
    return f"{workspace.ticket_prefix}-{number}" if number.isdigit() else quote(key, 40)


def _found(result: TicketResult | None) -> TicketResult:
    # A move by key raises NotFound rather than finding nothing.
    assert result is not None
    return result
