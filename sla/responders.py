"""Who answers: per person, first responses given, median time to first response,
resolutions and breaches while assigned, over a period.

A ticket's whole history credits or charges people with *contributions* (``contributions``),
each at an instant of that history:

- A first response is credited to the person whose reply stopped the first-response clock
  (the first RESPONDED event), at that reply; its time is that metric's business elapsed
  time. A ticket resolved without any answer credits nobody.
- A resolution is credited to whoever resolved the ticket, once per time it was resolved
  (a reopened ticket resolved again counts again), at the resolve.
- A breach is charged to the person assigned at the instant the metric runs past its target
  (its due instant); nobody is charged while the ticket was unassigned. A metric still
  running is charged at its due instant even when that lies ahead; a paused one only if it
  had breached before. Next response counts its current cycle.

The figures of ``[start, end)`` seen at ``now`` are the contributions with ``start <= at <
end`` and ``at <= now``, summed per person (``responder_rows``); the median is nearest-rank,
as in reports. Storage keeps each ticket's contributions and their daily sums, and reads the
same figures from them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

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


class ContributionKind(StrEnum):
    """What a ticket credits or charges a person with."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    BREACH = "breach"


@dataclass(frozen=True)
class Contribution:
    """One credit or charge of a ticket: to ``user_id`` at the instant ``at``; ``elapsed``
    is the business time to the first response (zero for the other kinds)."""

    kind: ContributionKind
    at: datetime
    user_id: str
    elapsed: timedelta = timedelta(0)


def contributions(
    events: Sequence[ClockEvent], actors: Iterable[ActorEvent], policy: Policy
) -> list[Contribution]:
    """Everything a ticket's whole history credits or charges people with (module
    docstring), whatever the instant it is looked at from: a metric still running is charged
    at its due instant even when that lies ahead (a reader counts only what is not after its
    ``now``). A change of the history (an answer, a reassignment before the due instant)
    makes a different list."""
    ordered = sorted(actors, key=lambda a: a.at)
    instants = [e.at for e in events] + [a.at for a in ordered]
    if not instants:
        return []
    try:
        # Seen from its last entry: nothing happens to a ticket between its entries.
        clock = compute_clock(events, policy, max(instants))
    except ClockError:
        return []
    found = _first_response(clock, ordered)
    found += _resolutions(ordered)
    found += _breaches(clock, ordered)
    return found


def responder_rows(
    tickets: Iterable[tuple[ResponderTicket, Policy]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[ResponderRow]:
    """Figures per person, most first responses first (tickets come with their policy): the
    tickets' contributions with ``start <= at < end`` and ``at <= now``, summed per person."""
    first: dict[str, list[timedelta]] = {}
    counts: dict[str, Counter[ContributionKind]] = {}
    for ticket, policy in tickets:
        for c in contributions(ticket.events, ticket.actors, policy):
            if start <= c.at < end and c.at <= now:
                counts.setdefault(c.user_id, Counter())[c.kind] += 1
                if c.kind is ContributionKind.FIRST_RESPONSE:
                    first.setdefault(c.user_id, []).append(c.elapsed)
    return ranked(
        ResponderRow(
            user_id=user,
            first_responses=tally[ContributionKind.FIRST_RESPONSE],
            median_first_response=nearest_rank(first.get(user, []), 50),
            resolutions=tally[ContributionKind.RESOLUTION],
            breaches_assigned=tally[ContributionKind.BREACH],
        )
        for user, tally in counts.items()
    )


def ranked(rows: Iterable[ResponderRow]) -> list[ResponderRow]:
    """Most first responses first, then most resolutions, then by user id."""
    return sorted(rows, key=lambda r: (-r.first_responses, -r.resolutions, r.user_id))


def _first_response(clock: TicketClock, actors: Sequence[ActorEvent]) -> list[Contribution]:
    """The reply that stopped the first-response clock, credited to whoever wrote it."""
    first = clock.metrics.get(Metric.FIRST_RESPONSE)
    responder = next((a for a in actors if a.kind == EventKind.RESPONDED.value), None)
    if (first is None or responder is None or not responder.actor
            or first.stopped_at != responder.at):
        return []
    return [Contribution(ContributionKind.FIRST_RESPONSE, responder.at, responder.actor,
                         first.elapsed)]


def _resolutions(actors: Sequence[ActorEvent]) -> list[Contribution]:
    """Each resolve that took (a reopen undoes one), credited to whoever resolved."""
    found = []
    resolved = False
    for a in actors:
        if a.kind == EventKind.RESOLVED.value and not resolved:
            resolved = True
            if a.actor:
                found.append(Contribution(ContributionKind.RESOLUTION, a.at, a.actor))
        elif a.kind == EventKind.REOPENED.value:
            resolved = False
    return found


def _breaches(clock: TicketClock, actors: Sequence[ActorEvent]) -> list[Contribution]:
    """Each metric over its target, or still running towards it, charged to whoever was
    assigned when it went (or goes) over."""
    found = []
    for metric_clock in clock.metrics.values():
        calendar = metric_clock.calendar
        if calendar is None:
            continue
        if not metric_clock.running and not is_breached(metric_clock.elapsed,
                                                        metric_clock.target):
            continue  # met, or paused before its target
        # Also for a metric paused after it breached: its closed pauses tell the instant.
        breached_at = calendar.due(
            metric_clock.started_at, metric_clock.target, metric_clock.pauses
        ).astimezone(UTC)
        assignee = _assignee_at(actors, breached_at)
        if assignee:
            found.append(Contribution(ContributionKind.BREACH, breached_at, assignee))
    return found


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


__all__ = ["ActorEvent", "Contribution", "ContributionKind", "ResponderRow", "ResponderTicket",
           "assignee_of", "contributions", "ranked", "responder_rows"]
