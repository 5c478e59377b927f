"""Who answers: per person, first responses given, median time to first response,
resolutions and breaches while assigned, over a period.

Counting rules for ``[start, end)`` (instants of the ticket's own history):

- A first response is credited to the person whose reply stopped the first-response clock
  (the first RESPONDED event), when it happened in the period; its time is that metric's
  business elapsed time. A ticket resolved without any answer credits nobody.
- A resolution is credited to whoever resolved the ticket, once per time it was resolved
  (a reopened ticket resolved again counts again), when it happened in the period.
- A breach is charged to the person assigned at the instant the metric ran past its target
  (its due instant), when that instant is in the period and not after ``now``; nobody is
  charged while the ticket was unassigned. Next response counts its current cycle.
- The median is nearest-rank, as in reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sla.breach import is_breached
from sla.clock import TicketClock, compute_clock
from sla.compliance import nearest_rank
from sla.events import ClockError, ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric

ASSIGNED = "assigned"  # the history entry naming the new assignee (empty: unassigned)


@dataclass(frozen=True)
class ActorEvent:
    """One history entry with who made it; for ``assigned`` the new assignee is ``note``."""

    kind: str
    at: datetime
    actor: str | None
    note: str | None = None


@dataclass(frozen=True)
class ResponderTicket:
    """A ticket's clock events and its history with people."""

    key: str
    events: tuple[ClockEvent, ...]
    actors: tuple[ActorEvent, ...]


@dataclass(frozen=True)
class ResponderRow:
    """One person's figures over the period."""

    user_id: str
    first_responses: int = 0
    median_first_response: timedelta | None = None
    resolutions: int = 0
    breaches_assigned: int = 0


@dataclass
class _Tally:
    first: list[timedelta] = field(default_factory=list)
    resolutions: int = 0
    breaches: int = 0


def responder_rows(
    tickets: Iterable[tuple[ResponderTicket, Policy]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[ResponderRow]:
    """Figures per person, most first responses first (tickets come with their policy)."""
    tallies: dict[str, _Tally] = {}
    for ticket, policy in tickets:
        try:
            clock = compute_clock(ticket.events, policy, now)
        except ClockError:
            continue
        actors = sorted((a for a in ticket.actors if a.at <= now), key=lambda a: a.at)
        _credit_first_response(tallies, clock, actors, start, end)
        _credit_resolutions(tallies, actors, start, end)
        _charge_breaches(tallies, clock, actors, start, end, now)
    rows = [
        ResponderRow(
            user_id=user,
            first_responses=len(t.first),
            median_first_response=nearest_rank(t.first, 50),
            resolutions=t.resolutions,
            breaches_assigned=t.breaches,
        )
        for user, t in tallies.items()
    ]
    return sorted(rows, key=lambda r: (-r.first_responses, -r.resolutions, r.user_id))


def _credit_first_response(
    tallies: dict[str, _Tally], clock: TicketClock, actors: Sequence[ActorEvent],
    start: datetime, end: datetime,
) -> None:
    """The reply that stopped the first-response clock, credited to whoever wrote it."""
    first = clock.metrics.get(Metric.FIRST_RESPONSE)
    responder = next((a for a in actors if a.kind == EventKind.RESPONDED.value), None)
    if (first is not None and responder is not None and responder.actor
            and first.stopped_at == responder.at and start <= responder.at < end):
        tallies.setdefault(responder.actor, _Tally()).first.append(first.elapsed)


def _credit_resolutions(
    tallies: dict[str, _Tally], actors: Sequence[ActorEvent], start: datetime, end: datetime
) -> None:
    """Each resolve that took (a reopen undoes one), credited to whoever resolved."""
    resolved = False
    for a in actors:
        if a.kind == EventKind.RESOLVED.value and not resolved:
            resolved = True
            if a.actor and start <= a.at < end:
                tallies.setdefault(a.actor, _Tally()).resolutions += 1
        elif a.kind == EventKind.REOPENED.value:
            resolved = False


def _charge_breaches(
    tallies: dict[str, _Tally], clock: TicketClock, actors: Sequence[ActorEvent],
    start: datetime, end: datetime, now: datetime,
) -> None:
    """Each metric over its target, charged to whoever was assigned when it went over."""
    for metric_clock in clock.metrics.values():
        calendar = metric_clock.calendar
        if calendar is None or not is_breached(metric_clock.elapsed, metric_clock.target):
            continue
        # Also for a metric paused after it breached: its closed pauses tell the instant.
        breached_at = calendar.due(
            metric_clock.started_at, metric_clock.target, metric_clock.pauses
        ).astimezone(UTC)
        if not (start <= breached_at < end) or breached_at > now:
            continue
        assignee = _assignee_at(actors, breached_at)
        if assignee:
            tallies.setdefault(assignee, _Tally()).breaches += 1


def _assignee_at(actors: Sequence[ActorEvent], at: datetime) -> str | None:
    assignee = None
    for a in actors:
        if a.at > at:
            break
        if a.kind == ASSIGNED:
            assignee = assignee_of(a)
    return assignee


def assignee_of(event: ActorEvent) -> str | None:
    """Who an ``assigned`` entry names: its note, else whoever took it (None: unassigned)."""
    return (event.note if event.note is not None else event.actor) or None


__all__ = ["ActorEvent", "ResponderRow", "ResponderTicket", "assignee_of", "responder_rows"]
