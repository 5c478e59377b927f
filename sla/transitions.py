"""Which move a ticket may make from the state its clock is in, and the priority rules.

A move is the event appended to a ticket's history; these functions decide it from the
ticket's clock before the change (and its policy, for next response). They return None
when there is nothing to do and raise when the move is refused, with a message that says
why. Priority rules: words in a new request raise its priority above the channel default,
and a requester may raise their own ticket's priority but never lower it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sla.clock import TicketClock
from sla.events import EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority

__all__ = [
    "REOPEN_WINDOW",
    "InvalidTransition",
    "LoweringRefused",
    "Move",
    "by_hand",
    "change_priority",
    "detect_priority",
    "is_less_urgent",
    "requester_reply",
    "team_response",
]

# A requester reply this long after a resolve reopens the ticket; later ones are a new topic.
REOPEN_WINDOW = timedelta(days=7)

# Words that raise a new ticket's priority above the channel default (never lower it).
_P1_WORDS = re.compile(
    r"(:rotating_light:|\U0001F6A8|\b(outage|emergency|sev ?1|p1)\b)", re.IGNORECASE
)
_P2_WORDS = re.compile(r"\b(urgent|asap|sev ?2|p2)\b", re.IGNORECASE)


class InvalidTransition(ValueError):
    """The ticket cannot make this move now (e.g. pausing a resolved ticket)."""


class LoweringRefused(ValueError):
    """A requester tried to lower their own ticket's priority: that is the team's call."""


@dataclass(frozen=True)
class Move:
    """The event a move appends to a ticket's history."""

    kind: EventKind
    priority: Priority | None = None
    note: str | None = None


_Refusal = tuple[Callable[[TicketClock], bool], str]

# The moves people make by hand (verbs, buttons, reactions) and the states that refuse them.
_REFUSED: dict[EventKind, tuple[_Refusal, ...]] = {
    EventKind.PAUSED: (
        (lambda clock: clock.resolved, "{key} is resolved; reopen it before pausing."),
        (lambda clock: clock.paused, "{key} is already paused."),
    ),
    EventKind.RESUMED: ((lambda clock: not clock.paused, "{key} is not paused."),),
    EventKind.RESOLVED: ((lambda clock: clock.resolved, "{key} is already resolved."),),
    EventKind.REOPENED: ((lambda clock: not clock.resolved, "{key} is not resolved."),),
}


def by_hand(kind: EventKind, key: str, clock: TicketClock, *, reason: str | None = None,
            quiet: bool = False) -> Move | None:
    """Pause, resume, resolve or reopen ticket `key`; InvalidTransition when its state refuses
    the move, or None with `quiet` (a second :white_check_mark: is no mistake worth a word)."""
    for refuses, message in _REFUSED[kind]:
        if refuses(clock):
            if quiet:
                return None
            raise InvalidTransition(message.format(key=key))
    return Move(kind, note=reason)


def change_priority(key: str, clock: TicketClock, new: Priority, *,
                    by_requester: bool) -> Move | None:
    """Set ticket `key` to priority `new`: running metrics switch to the new targets."""
    if clock.resolved:
        raise InvalidTransition(f"{key} is resolved; reopen it to change priority.")
    if clock.priority == new:
        return None
    if by_requester and is_less_urgent(new, clock.priority):
        # Lowering stretches every target (P1 -> P4: resolution 4h -> 40h); that is the
        # team's call, not the requester's. Raising their own ticket is fine.
        raise LoweringRefused(
            f"You can raise the priority of your own ticket, but only the team can lower "
            f"it, so {key} stays {clock.priority}. If it is less urgent now, say so "
            "in the thread."
        )
    return Move(EventKind.PRIORITY_CHANGED, priority=new)


def team_response(clock: TicketClock) -> Move | None:
    """A reply (or `:eyes:`) by the team: it stops first or next response, if one is running."""
    if clock.resolved:
        return None
    waiting = [
        m for metric, m in clock.metrics.items()
        if metric in (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE) and not m.stopped
    ]
    return Move(EventKind.RESPONDED) if waiting else None


def requester_reply(clock: TicketClock, policy: Policy, *, resolved_at: datetime | None,
                    now: datetime) -> Move | None:
    """The requester wrote in the thread: reopens a recently resolved ticket, or starts the
    next-response clock after a team reply (when the policy measures it)."""
    if clock.resolved:
        if resolved_at is not None and now - resolved_at <= REOPEN_WINDOW:
            return Move(EventKind.REOPENED, note="requester replied")
        return None
    first = clock.metrics.get(Metric.FIRST_RESPONSE)
    if first is None or not first.stopped:
        return None
    if policy.target(clock.priority, Metric.NEXT_RESPONSE) is not None:
        nxt = clock.metrics.get(Metric.NEXT_RESPONSE)
        if nxt is None or nxt.stopped:
            return Move(EventKind.REQUESTER_REPLIED)
    return None


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
