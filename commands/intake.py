"""Intake: what counts as a request, and how a request becomes a ticket.

A request is a person's top-level message (not a bot, an edit, a join). The message
handler, the `:ticket:` reaction, the message shortcut and the start-up catch-up all open
tickets through `open_ticket`: stored with its card queued in the outbox, in one unit of
work. No Slack call happens here: the outbox sender posts the card after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlmodel import Session

from commands.clocks import clock_of
from commands.deps import Deps
from commands.lifecycle import TicketResult
from sla.clock import TicketClock, compute_clock
from sla.escalation import plan_nudges
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Priority
from sla.transitions import detect_priority
from storage.errors import DuplicateTicket
from storage.models import TrackedChannel, Workspace, stored_id
from storage.repositories import outbox as outbox_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)

# Message subtypes written by a person; everything else (edits, joins, bots...) is not a request.
HUMAN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def is_human_message(message: Mapping[str, object]) -> bool:
    """A message a person wrote (not a bot, an edit, a join or another system message)."""
    return (
        message.get("subtype") in HUMAN_SUBTYPES
        and not message.get("bot_id")
        and bool(message.get("user"))
    )


def is_thread_reply_event(message: Mapping[str, object]) -> bool:
    """A reply inside a thread (a thread's first message has thread_ts == ts)."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


def ts_instant(ts: str) -> datetime | None:
    """The instant of a Slack message ts ("1700000000.000100"), or None if unreadable."""
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class _Request:
    """A Slack message to make a ticket of (see `open_ticket` for the fields' meaning)."""

    team_id: str
    channel_id: str
    message_ts: str
    user_id: str
    text: str
    source: str
    thread_ts: str | None
    priority: Priority | None
    only_if_tracked: bool


@dataclass(frozen=True)
class _Draft:
    """A ticket worked out and ready to insert."""

    new: ticket_repo.NewTicket
    clock: TicketClock
    policy: Policy
    first_look: datetime | None


def open_ticket(
    deps: Deps, *, team_id: str, channel_id: str, message_ts: str, user_id: str, text: str,
    source: str, thread_ts: str | None = None, priority: Priority | None = None,
    only_if_tracked: bool = False,
) -> TicketResult | None:
    """Make a Slack message a ticket (once: a second call returns the existing one).

    The clock starts when the message was posted for channel messages, and when tracking
    was asked for otherwise (a `:ticket:` on an old message must not be born breached).
    With `only_if_tracked`, returns None (writing nothing) unless the channel is tracked.
    Joins the caller's unit of work when one is open on this thread.
    """
    request = _Request(team_id, channel_id, message_ts, user_id, text, source, thread_ts,
                       priority, only_if_tracked)
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        draft = _draft_ticket(deps, session, request, now)
        if draft is None:
            return None
        new = draft.new
        try:
            ticket = ticket_repo.create_ticket(
                session=session, policy=draft.policy,
                **{field.name: getattr(new, field.name) for field in fields(new)},
            )
        except DuplicateTicket as duplicate:
            existing = duplicate.ticket
            clock = clock_of(session, existing, now, policy=draft.policy)
            return TicketResult(existing, clock, created=False, changed=False)
        outbox_repo.queue_write(
            session=session, key=f"card:{ticket.id}", kind=outbox_repo.CARD,
            ticket_id=ticket.id, channel_id=ticket.channel_id, thread_ts=ticket.thread_ts,
            at=now,
        )
    log.info("ticket %s opened from %s in %s", ticket.key, ticket.source, ticket.channel_id)
    # Inside an outer unit of work (the inbox worker) these run before its commit; the
    # worker wakes both again once it committed.
    deps.wake_outbox()
    if draft.first_look is not None:
        # With its first look, the scheduler wakes only if that comes before its own plans.
        deps.wake_scheduler(draft.first_look)
    return TicketResult(ticket, draft.clock, created=True)


def _draft_ticket(deps: Deps, session: Session, request: _Request, now: datetime
                  ) -> _Draft | None:
    """Everything decided before inserting; None when nothing is to be done (an untracked
    channel, a message ts that is no Slack timestamp)."""
    posted = ts_instant(request.message_ts)
    if posted is None:
        log.info("message %r in %s is no Slack message ts: not a ticket",
                 request.message_ts[:40], request.channel_id)
        return None
    found = _channel_setting(session, request.team_id, request.channel_id,
                             create=not request.only_if_tracked)
    if found is None:
        return None
    workspace, channel, policy = found
    if request.only_if_tracked and (channel is None or not channel.tracking):
        return None
    created_at = posted if request.source == "message" and posted <= now else now
    default = policy.default_priority
    if channel is not None and channel.default_priority:
        default = Priority.parse(channel.default_priority)
    chosen = request.priority or detect_priority(request.text, default)
    # Born a moment ago: its only event is CREATED, no need to read it back.
    clock = compute_clock([ClockEvent(EventKind.CREATED, created_at, chosen)], policy, now)
    first_look = _first_look(clock, policy, now)
    new = ticket_repo.NewTicket(
        workspace_id=stored_id(workspace), channel_id=request.channel_id,
        message_ts=request.message_ts, thread_ts=request.thread_ts or request.message_ts,
        requester_id=request.user_id, priority=chosen, created_at=created_at, clock=clock,
        next_due_at=first_look, text=request.text, source=request.source,
        permalink=deps.notifier.message_link(request.channel_id, request.message_ts),
    )
    return _Draft(new, clock, policy, first_look)


def _channel_setting(session: Session, team_id: str, channel_id: str, *, create: bool
                     ) -> tuple[Workspace, TrackedChannel | None, Policy] | None:
    """(workspace, channel row or None, policy in force); None when the workspace is unknown
    and not to be created."""
    found = workspace_repo.get_channel_setting(
        session=session, team_id=team_id, channel_id=channel_id)
    if found is None and create:
        workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        found = workspace_repo.get_channel_setting(
            session=session, team_id=team_id, channel_id=channel_id)
    return found


def _first_look(clock: TicketClock, policy: Policy, now: datetime) -> datetime | None:
    """When the scheduler must first look at a new ticket: what its planner would store.

    A new ticket has sent no nudge, so planning it now is `plan_nudges` with nothing sent:
    when nothing is due yet, its next look is the plan's next wake-up and the scheduler has
    no reason to load it before then. A ticket born with a nudge already due (an old message
    tracked late) is looked at at once, as every other change is.
    """
    plan = plan_nudges(clock, policy, (), now)
    if plan.due or plan.skipped:
        return now
    return plan.next_wake_at
