"""The ticket service: every way a ticket is born or moves goes through here.

Event listeners, card buttons, the message shortcut and `/sla` verbs all call these
functions. Each one is a single unit of work: lock the ticket, append the event, recompute
the clock with `sla.clock.compute_clock`, store status + due columns + `next_due_at`, and queue
the Slack writes the move implies (the card, its redraw) in the outbox, in that same unit of
work. No Slack call happens here: the outbox sender delivers after the commit.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.deps import Deps
from commands.errors import NotFound, PermissionDenied
from sla.clock import ClockEvent, EventKind, TicketClock, compute_clock
from sla.escalation import plan_nudges
from sla.policy import Metric, Policy, Priority
from storage.errors import DuplicateTicket
from storage.models import Ticket
from storage.repositories import outbox as outbox_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)

# A requester reply this long after a resolve reopens the ticket; later ones are a new topic.
REOPEN_WINDOW = timedelta(days=7)

# Words that raise a new ticket's priority above the channel default (never lower it).
_P1_WORDS = re.compile(
    r"(:rotating_light:|\U0001F6A8|\b(outage|emergency|sev ?1|p1)\b)", re.IGNORECASE
)
_P2_WORDS = re.compile(r"\b(urgent|asap|sev ?2|p2)\b", re.IGNORECASE)


class InvalidTransition(ValueError):
    """The ticket cannot make this move now (e.g. pausing a resolved ticket)."""


@dataclass(frozen=True)
class TicketResult:
    """A ticket after a change: the row (detached), its clock, and what happened."""

    ticket: Ticket
    clock: TicketClock
    created: bool = False
    changed: bool = True


def detect_priority(text: str, default: Priority) -> Priority:
    """The priority a new ticket gets: `default`, raised by words like "outage" or "urgent"."""
    found = default
    if _P1_WORDS.search(text or ""):
        found = Priority.P1
    elif _P2_WORDS.search(text or ""):
        found = Priority.P2
    # Priority values sort P1 < P2 < ...: the smaller one is the more urgent.
    return min(found, default, key=lambda p: p.value)


def is_less_urgent(new: Priority, old: Priority) -> bool:
    """True when `new` is less urgent than `old` (P4 is lower than P1)."""
    order = list(Priority)
    return order.index(Priority.parse(new)) > order.index(Priority.parse(old))


def ts_instant(ts: str) -> datetime | None:
    """The instant of a Slack message ts ("1700000000.000100"), or None if unreadable."""
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------- time zones
_tz_cache: dict[str, str] = {}
_tz_lock = threading.Lock()


def user_tz(deps: Deps, user_id: str, fallback: str) -> str:
    """The user's Slack time zone (users.info, cached), else `fallback`."""
    with _tz_lock:
        cached = _tz_cache.get(user_id)
    if cached:
        return cached
    try:
        tz = deps.notifier.user_info(user_id).get("tz") or fallback
    except SlackApiError as exc:
        # Slack answered (user_not_found, missing scope): asking again will not help.
        log.info("users.info refused for %s: %s", user_id, exc.response.get("error"))
        tz = fallback
    except Exception as exc:  # network trouble: a card in the fallback zone, ask next time
        log.info("users.info failed for %s: %s", user_id, exc.__class__.__name__)
        return fallback
    with _tz_lock:
        _tz_cache[user_id] = tz
    return tz


# ---------------------------------------------------------------------------- intake
@dataclass(frozen=True)
class IntakeRequest:
    """A Slack message to make a ticket of (see `open_ticket` for the fields' meaning)."""

    team_id: str
    channel_id: str
    message_ts: str
    user_id: str
    text: str
    source: str
    thread_ts: str | None = None
    priority: Priority | None = None
    only_if_tracked: bool = False


def open_ticket(
    deps: Deps,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    user_id: str,
    text: str,
    source: str,
    thread_ts: str | None = None,
    priority: Priority | None = None,
    only_if_tracked: bool = False,
) -> TicketResult | None:
    """Make a Slack message a ticket (once: a second call returns the existing one).

    The clock starts when the message was posted for channel messages, and when tracking
    was asked for otherwise (a `:ticket:` on an old message must not be born breached).
    With `only_if_tracked`, returns None (writing nothing) unless the channel is tracked.
    """
    return open_request(deps, IntakeRequest(
        team_id=team_id, channel_id=channel_id, message_ts=message_ts, user_id=user_id,
        text=text, source=source, thread_ts=thread_ts, priority=priority,
        only_if_tracked=only_if_tracked,
    ))


def open_request(deps: Deps, request: IntakeRequest) -> TicketResult | None:
    """The one way a ticket is born: stored with its card queued in the outbox, in one unit
    of work (the caller's, when one is open on this thread)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        plan = _plan_ticket(deps, session, request, now)
        if plan is None:
            return None
        new = plan.new
        try:
            ticket = ticket_repo.create_ticket(
                session=session, policy=plan.policy,
                **{field.name: getattr(new, field.name) for field in fields(new)},
            )
        except DuplicateTicket as duplicate:
            existing = duplicate.ticket
            clock = _clock_of(session, existing, plan.policy, now)
            return TicketResult(existing, clock, created=False, changed=False)
        outbox_repo.queue_write(
            session=session, key=f"card:{ticket.id}", kind=outbox_repo.CARD,
            ticket_id=ticket.id, channel_id=ticket.channel_id, thread_ts=ticket.thread_ts,
            at=now,
        )
    log.info("ticket %s opened from %s in %s", ticket.key, ticket.source, ticket.channel_id)
    _after_change(deps, plan.first_look)
    return TicketResult(ticket, new.clock, created=True)


def _after_change(deps: Deps, first_look: datetime | None = None) -> None:
    """After a commit: the sender has writes to deliver, the scheduler new times to plan.

    Inside an outer unit of work (the inbox worker) this runs before that commit; the
    worker wakes both again once it committed.
    """
    deps.wake_outbox()
    if first_look is not None:
        # With its first look, the scheduler wakes only if that comes before its own plans.
        deps.wake_scheduler(first_look)


@dataclass(frozen=True)
class _TicketPlan:
    """A ticket worked out and ready to insert."""

    new: ticket_repo.NewTicket
    policy: Policy
    first_look: datetime | None


def _plan_ticket(
    deps: Deps, session: Any, request: IntakeRequest, now: datetime
) -> _TicketPlan | None:
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
        workspace_id=workspace.id,
        channel_id=request.channel_id,
        message_ts=request.message_ts,
        thread_ts=request.thread_ts or request.message_ts,
        requester_id=request.user_id,
        priority=chosen,
        created_at=created_at,
        clock=clock,
        next_due_at=first_look,
        text=request.text,
        source=request.source,
        permalink=deps.notifier.message_link(request.channel_id, request.message_ts),
    )
    return _TicketPlan(new, policy, first_look)


def _channel_setting(session: Any, team_id: str, channel_id: str, *, create: bool
                     ) -> tuple[Any, Any, Policy] | None:
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
        policy = workspace_repo.get_policy(
            session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
        )
        clock = _clock_of(session, ticket, policy, now)
        tz = workspace_repo.get_workspace_by_id(
            session=session, workspace_id=ticket.workspace_id).tz
        session.expunge(ticket)
    tz = user_tz(deps, ticket.requester_id, tz)
    return ticket, clock, tz


# ---------------------------------------------------------------------------- transitions
@dataclass(frozen=True)
class _Move:
    kind: EventKind | str
    priority: Priority | None = None
    note: str | None = None


# A decision looks at the ticket, its clock before the change and its policy, and returns
# the event to append, None for "nothing to do", or raises InvalidTransition.
Decide = Callable[[Ticket, TicketClock, Policy], _Move | None]


def _clock_of(session: Any, ticket: Ticket, policy: Policy, now: datetime) -> TicketClock:
    events = ticket_repo.load_clock_events(session=session, ticket_id=ticket.id)
    return compute_clock(events, policy, now)


def _locate(
    session: Any,
    workspace_id: int,
    *,
    key: str | None,
    channel_id: str | None,
    message_ts: str | None,
) -> Ticket | None:
    if key is not None:
        return ticket_repo.get_ticket_by_key(session=session, workspace_id=workspace_id, key=key)
    if channel_id is not None and message_ts is not None:
        return ticket_repo.get_ticket_by_thread(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            thread_ts=message_ts,
        ) or ticket_repo.get_ticket_by_message(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            message_ts=message_ts,
        )
    raise ValueError("name a ticket by key, or by channel and message ts")


def _transition(
    deps: Deps,
    decide: Decide,
    *,
    team_id: str,
    user_id: str | None,
    key: str | None = None,
    channel_id: str | None = None,
    message_ts: str | None = None,
    missing_ok: bool = False,
    assign_to: str | None = None,
) -> TicketResult | None:
    """One unit of work moving one ticket; see the module docstring."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        found = _locate(session, workspace.id, key=key, channel_id=channel_id,
                        message_ts=message_ts)
        if found is None:
            if missing_ok:
                return None
            raise NotFound(f"There is no ticket {key} in this workspace.")
        # Lock the row: a reply and a reaction arriving together must not interleave.
        ticket = ticket_repo.get_ticket(session=session, ticket_id=found.id, for_update=True)
        policy = workspace_repo.get_policy(
            session=session, workspace_id=workspace.id, channel_id=ticket.channel_id
        )
        events = ticket_repo.load_clock_events(session=session, ticket_id=ticket.id)
        before = compute_clock(events, policy, now)
        move = decide(ticket, before, policy)
        if move is None:
            return TicketResult(ticket, before, changed=False)
        ticket_repo.append_event(
            session=session, ticket=ticket, kind=move.kind, at=now, actor_id=user_id,
            priority=move.priority, note=move.note,
        )
        if assign_to and not ticket.assignee_id:
            ticket_repo.set_assignee(session=session, ticket=ticket, assignee_id=assign_to)
        if isinstance(move.kind, EventKind):
            events.append(ClockEvent(move.kind, now, move.priority))
        clock = compute_clock(events, policy, now)
        ticket_repo.apply_clock(session=session, ticket=ticket, clock=clock)
        queue_card_update(session, ticket, now)
    _after_change(deps)
    deps.wake_scheduler()
    return TicketResult(ticket, clock)


def queue_card_update(session: Any, ticket: Ticket, now: datetime,
                      because: str | None = None) -> None:
    """Queue a redraw of the ticket's card in the caller's unit of work (the outbox sender
    renders it as the ticket is when it sends, so close changes make one chat.update)."""
    outbox_repo.queue_card_update(session=session, ticket_id=ticket.id,
                                  version=ticket.version, at=now, because=because)


def refresh_card(deps: Deps, ticket_id: int) -> None:
    """Queue a redraw of a ticket's card in a unit of work of its own (time alone moved it)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            queue_card_update(session, ticket, now, because=f"at{now.timestamp():.6f}")
    deps.wake_outbox()


def record_response(
    deps: Deps,
    *,
    team_id: str,
    channel_id: str,
    thread_ts: str,
    user_id: str,
    responders: frozenset[str] = frozenset(),
) -> TicketResult | None:
    """A reply (or `:eyes:`) in a ticket's thread: first response, or stops next response.

    Replies by the requester go to `requester_replied` instead; None when the thread is no
    ticket. The first responder becomes the assignee when nobody is.
    """

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move | None:
        if ticket.requester_id == user_id and user_id not in responders:
            return None
        if clock.resolved:
            return None
        waiting = [
            m for metric, m in clock.metrics.items()
            if metric in (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE) and not m.stopped
        ]
        return _Move(EventKind.RESPONDED) if waiting else None

    return _transition(
        deps, decide, team_id=team_id, user_id=user_id, channel_id=channel_id,
        message_ts=thread_ts, missing_ok=True, assign_to=user_id,
    )


def requester_replied(
    deps: Deps, *, team_id: str, channel_id: str, thread_ts: str, user_id: str
) -> TicketResult | None:
    """The requester wrote in the thread: reopens a recently resolved ticket, or starts the
    next-response clock after a team reply (when the policy measures it)."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move | None:
        if ticket.requester_id != user_id:
            return None
        if clock.resolved:
            resolved_at = ticket.resolved_at
            if resolved_at is not None and deps.clock.now() - resolved_at <= REOPEN_WINDOW:
                return _Move(EventKind.REOPENED, note="requester replied")
            return None
        first = clock.metrics.get(Metric.FIRST_RESPONSE)
        if first is None or not first.stopped:
            return None
        if policy.target(clock.priority, Metric.NEXT_RESPONSE) is not None:
            nxt = clock.metrics.get(Metric.NEXT_RESPONSE)
            if nxt is None or nxt.stopped:
                return _Move(EventKind.REQUESTER_REPLIED)
        return None

    return _transition(
        deps, decide, team_id=team_id, user_id=user_id, channel_id=channel_id,
        message_ts=thread_ts, missing_ok=True,
    )


def pause(deps: Deps, *, team_id: str, user_id: str, key: str | None = None,
          channel_id: str | None = None, message_ts: str | None = None,
          reason: str | None = None) -> TicketResult:
    """Stop every clock of the ticket until `resume`."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move:
        if clock.resolved:
            raise InvalidTransition(f"{ticket.key} is resolved; reopen it before pausing.")
        if clock.paused:
            raise InvalidTransition(f"{ticket.key} is already paused.")
        return _Move(EventKind.PAUSED, note=reason)

    return _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                             channel_id=channel_id, message_ts=message_ts))


def resume(deps: Deps, *, team_id: str, user_id: str, key: str | None = None,
           channel_id: str | None = None, message_ts: str | None = None,
           reason: str | None = None) -> TicketResult:
    """Restart the clocks of a paused ticket."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move:
        if not clock.paused:
            raise InvalidTransition(f"{ticket.key} is not paused.")
        return _Move(EventKind.RESUMED, note=reason)

    return _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                             channel_id=channel_id, message_ts=message_ts))


def resolve(deps: Deps, *, team_id: str, user_id: str, key: str | None = None,
            channel_id: str | None = None, message_ts: str | None = None,
            reason: str | None = None, quiet: bool = False) -> TicketResult:
    """Close the ticket: its resolution clock stops (a paused ticket is resumed first).

    With `quiet`, resolving an already resolved ticket is a no-op instead of an error
    (a second :white_check_mark: reaction is not a mistake worth a message).
    """

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move | None:
        if clock.resolved:
            if quiet:
                return None
            raise InvalidTransition(f"{ticket.key} is already resolved.")
        return _Move(EventKind.RESOLVED, note=reason)

    return _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                             channel_id=channel_id, message_ts=message_ts))


def reopen(deps: Deps, *, team_id: str, user_id: str, key: str | None = None,
           channel_id: str | None = None, message_ts: str | None = None,
           reason: str | None = None) -> TicketResult:
    """Reopen a resolved ticket: its resolution clock continues where it stopped."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move:
        if not clock.resolved:
            raise InvalidTransition(f"{ticket.key} is not resolved.")
        return _Move(EventKind.REOPENED, note=reason)

    return _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                             channel_id=channel_id, message_ts=message_ts))


def set_priority(deps: Deps, *, team_id: str, user_id: str, priority: Priority | str,
                 key: str | None = None, channel_id: str | None = None,
                 message_ts: str | None = None) -> TicketResult:
    """Change the ticket's priority: running metrics switch to the new targets."""
    new = Priority.parse(priority)

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move | None:
        if clock.resolved:
            raise InvalidTransition(f"{ticket.key} is resolved; reopen it to change priority.")
        if clock.priority == new:
            return None
        if user_id == ticket.requester_id and is_less_urgent(new, clock.priority):
            # Lowering stretches every target (P1 -> P4: resolution 4h -> 40h); that is the
            # team's call, not the requester's. Raising their own ticket is fine.
            raise PermissionDenied(
                f"You can raise the priority of your own ticket, but only the team can lower "
                f"it, so {ticket.key} stays {clock.priority}. If it is less urgent now, say so "
                "in the thread."
            )
        return _Move(EventKind.PRIORITY_CHANGED, priority=new)

    return _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                             channel_id=channel_id, message_ts=message_ts))


def assign(deps: Deps, *, team_id: str, user_id: str, assignee_id: str | None,
           key: str | None = None, channel_id: str | None = None,
           message_ts: str | None = None) -> TicketResult:
    """Give the ticket to `assignee_id` (None unassigns); recorded in the history."""

    def decide(ticket: Ticket, clock: TicketClock, policy: Policy) -> _Move | None:
        if ticket.assignee_id == assignee_id:
            return None
        # The "assigned" history entry stores the new assignee in its note.
        return _Move("assigned", note=assignee_id or "")

    result = _must(_transition(deps, decide, team_id=team_id, user_id=user_id, key=key,
                               channel_id=channel_id, message_ts=message_ts))
    if result.changed and not assignee_id:
        with deps.unit_of_work() as session:
            row = ticket_repo.get_ticket(session=session, ticket_id=result.ticket.id,
                                         for_update=True)
            ticket_repo.set_assignee(session=session, ticket=row, assignee_id=None)
        result.ticket.assignee_id = None
    return result


def _must(result: TicketResult | None) -> TicketResult:
    # _transition only returns None with missing_ok; these callers never pass it.
    assert result is not None
    return result


def get_ticket(deps: Deps, *, team_id: str, key: str) -> TicketResult:
    """A ticket and its clock now, by key (`SLA-42`); NotFound when there is none."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        ticket = ticket_repo.get_ticket_by_key(session=session, workspace_id=workspace.id, key=key)
        if ticket is None:
            raise NotFound(f"There is no ticket {key} in this workspace.")
        policy = workspace_repo.get_policy(
            session=session, workspace_id=workspace.id, channel_id=ticket.channel_id
        )
        return TicketResult(ticket, _clock_of(session, ticket, policy, now), changed=False)
