"""A ticket's SLA clock: its metrics' business elapsed time, due instants and states at ``now``.

Semantics (see DESIGN.md "SLA semantics"):

- First response runs from CREATED to the first RESPONDED. Resolving a ticket that never got
  a response stops it too, so a closed ticket has no clock left running; a REOPENED undoes
  that stop (a resolve taken back is no answer): first response runs again, without the time
  the ticket spent resolved.
- Resolution runs from CREATED to RESOLVED; REOPENED resumes it where it stopped: the time a
  ticket spent resolved is treated like a pause, so elapsed continues and the due instant
  moves out by exactly the business time the ticket was closed.
- Next response (only when the policy sets a target for the ticket's priority): a
  REQUESTER_REPLIED after a team response starts a cycle, the next RESPONDED (or RESOLVED)
  stops it. The clock reports the current or last cycle (``cycle`` counts from 0); a breach
  in any earlier cycle still makes the metric breached (``earlier_breaches``).
- While a ticket is paused no clock runs; PAUSED/RESUMED pairs are passed to the calendar.
  Resolving ends a pause, and a resolved ticket cannot be paused (it is not running).
- PRIORITY_CHANGED applies the new priority's target to every metric still running at that
  instant, measured against the whole elapsed time since the metric started. Metrics that
  already stopped keep the target in force when they stopped.
- A metric is breached when its business elapsed time exceeds its target before it stops;
  elapsed exactly equal to the target is met.

Events are sorted by instant (stable for ties); events before the first CREATED, events
after ``now`` and events that make no sense in the current state (RESUMED while running,
a second RESOLVED, ...) are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sla.calendar import BusinessCalendar
from sla.policy import Policy
from sla.targets import Metric, Priority

Pauses = tuple[tuple[datetime, datetime], ...]


class ClockError(ValueError):
    """The events cannot describe a ticket (no creation, naive instants, ...)."""


class EventKind(StrEnum):
    """Something that happened to a ticket and moves its SLA clock."""

    CREATED = "created"
    RESPONDED = "responded"
    REQUESTER_REPLIED = "requester_replied"
    PAUSED = "paused"
    RESUMED = "resumed"
    PRIORITY_CHANGED = "priority_changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"


def as_utc(at: datetime, what: str) -> datetime:
    """``at`` in UTC; a naive or missing instant is a ClockError naming ``what``."""
    if at.__class__ is datetime and at.tzinfo is UTC:  # the common case, stored instants
        return at
    if not isinstance(at, datetime):
        raise ClockError(f"{what}: expected a datetime, got {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ClockError(f"{what}: naive datetime {at.isoformat()}; give a time zone")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class ClockEvent:
    """One ticket event; ``priority`` is set on CREATED (optional) and PRIORITY_CHANGED."""

    kind: EventKind
    at: datetime
    priority: Priority | None = None

    def __post_init__(self) -> None:
        kind = self.kind
        if kind.__class__ is not EventKind:
            try:
                kind = EventKind(kind)
            except ValueError:
                raise ClockError(f"unknown clock event kind {self.kind!r}") from None
            object.__setattr__(self, "kind", kind)
        at = self.at
        if not (at.__class__ is datetime and at.tzinfo is UTC):  # stored instants already are
            object.__setattr__(self, "at", as_utc(at, f"{kind} event"))
        if self.priority is not None:
            if self.priority.__class__ is not Priority:
                object.__setattr__(self, "priority", Priority.parse(self.priority))
        elif kind is EventKind.PRIORITY_CHANGED:
            raise ClockError("a priority_changed event needs the new priority")


class MetricState(StrEnum):
    """Where a metric's clock stands: moving, held, or stopped (met or breached)."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True)
class MetricClock:
    """One metric of a ticket at ``now``; instants are UTC.

    ``remaining`` is ``target - elapsed`` (negative once overdue). ``due_at`` is None while
    the ticket is paused. ``state`` is MET/BREACHED once stopped, otherwise PAUSED, BREACHED
    (running past its target) or RUNNING; ``breached`` is the source of truth for a breach,
    also while paused and for earlier next-response cycles.
    """

    metric: Metric
    target: timedelta
    started_at: datetime
    elapsed: timedelta
    remaining: timedelta
    due_at: datetime | None
    stopped_at: datetime | None
    state: MetricState
    cycle: int = 0
    earlier_breaches: int = 0
    calendar: BusinessCalendar | None = field(default=None, repr=False, compare=False)
    pauses: Pauses = field(default=(), repr=False, compare=False)
    # instant_at's answers: the clock is immutable, and the thresholds, the at-risk mark and
    # the scheduler's plan all ask for the same few instants.
    _instants: dict[timedelta, datetime | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def breached(self) -> bool:
        """True when this metric exceeded its target (for next response: in any cycle)."""
        return self.elapsed > self.target or self.earlier_breaches > 0

    @property
    def stopped(self) -> bool:
        """True once the metric stopped (responded, resolved)."""
        return self.stopped_at is not None

    @property
    def running(self) -> bool:
        """True while the clock is moving: not stopped and not paused."""
        return self.state in (MetricState.RUNNING, MetricState.BREACHED) and not self.stopped

    @property
    def fraction(self) -> float:
        """Elapsed business time as a fraction of the target (1.0 is the breach)."""
        return self.elapsed / self.target

    def instant_at(self, business_time: timedelta) -> datetime | None:
        """The UTC instant at which ``business_time`` will have elapsed (None while paused)."""
        if self.calendar is None or self.state is MetricState.PAUSED:
            return None
        found = self._instants.get(business_time)
        if found is None:
            found = self.calendar.due(self.started_at, business_time, self.pauses).astimezone(UTC)
            self._instants[business_time] = found
        return found

    def instant_at_fraction(self, fraction: float) -> datetime | None:
        """The UTC instant at which ``fraction`` of the target will have elapsed."""
        return self.instant_at(self.target * fraction)

    def reescalation_at(self, seq: int, every: timedelta) -> datetime | None:
        """The UTC instant of re-escalation ``seq`` (1, 2, ...): due plus seq * every."""
        return self.instant_at(self.target + every * seq)


@dataclass(frozen=True)
class TicketClock:
    """A ticket's SLA state at ``now``: its metrics and the next instant something happens."""

    now: datetime
    priority: Priority
    paused: bool
    resolved: bool
    metrics: dict[Metric, MetricClock]
    next_event_at: datetime | None
    created_at: datetime | None = None
    paused_since: datetime | None = None


@dataclass
class _Cycle:
    start: datetime
    stop: datetime | None = None
    priority: Priority | None = None  # in force when it stopped


@dataclass
class _Walk:
    """Mutable state while replaying events; becomes a TicketClock at the end."""

    created: datetime
    priority: Priority
    paused_since: datetime | None = None
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)
    resolved_since: datetime | None = None
    resolved_gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    resolution_priority: Priority | None = None
    first_response: _Cycle | None = None
    first_stopped_by_resolve: bool = False
    responded: bool = False
    cycles: list[_Cycle] = field(default_factory=list)

    def _running_cycle(self) -> _Cycle | None:
        return self.cycles[-1] if self.cycles and self.cycles[-1].stop is None else None

    def apply(self, event: ClockEvent) -> None:
        at, kind = event.at, event.kind
        if kind is EventKind.PRIORITY_CHANGED:
            self.priority = event.priority or self.priority
        elif kind is EventKind.RESPONDED:
            self.responded = True
            if self.first_response is None:
                self.first_response = _Cycle(self.created, at, self.priority)
            self._stop_cycle(at)
        elif kind is EventKind.REQUESTER_REPLIED:
            if self.responded and self.resolved_since is None and not self._running_cycle():
                self.cycles.append(_Cycle(at))
        elif kind is EventKind.PAUSED:
            if self.paused_since is None and self.resolved_since is None:
                self.paused_since = at
        elif kind is EventKind.RESUMED:
            self._end_pause(at)
        elif kind is EventKind.RESOLVED:
            if self.resolved_since is None:
                self._end_pause(at)
                self.resolved_since = at
                self.resolution_priority = self.priority
                if self.first_response is None:
                    self.first_response = _Cycle(self.created, at, self.priority)
                    self.first_stopped_by_resolve = True
                self._stop_cycle(at)
        elif kind is EventKind.REOPENED and self.resolved_since is not None:
            self.resolved_gaps.append((self.resolved_since, at))
            self.resolved_since = None
            if self.first_stopped_by_resolve:
                self.first_response, self.first_stopped_by_resolve = None, False

    def _end_pause(self, at: datetime) -> None:
        if self.paused_since is not None:
            self.pauses.append((self.paused_since, at))
            self.paused_since = None

    def _stop_cycle(self, at: datetime) -> None:
        cycle = self._running_cycle()
        if cycle is not None:
            cycle.stop, cycle.priority = at, self.priority


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Measure:
    """Measures one metric span against the calendar with the ticket's pauses."""

    def __init__(self, policy: Policy, walk: _Walk, now: datetime) -> None:
        self.policy, self.walk, self.now = policy, walk, now
        self.open_pause = [(walk.paused_since, now)] if walk.paused_since is not None else []

    def span(
        self,
        start: datetime,
        stop: datetime | None,
        gaps: Sequence[tuple[datetime, datetime]] = (),
    ) -> tuple[timedelta, Pauses, bool]:
        """Business elapsed time of a span, the pauses that held it, and whether it is paused
        now: everything about a metric that does not depend on its target."""
        end = stop if stop is not None else self.now
        if not self.walk.pauses and not gaps and not self.open_pause:  # most tickets
            return self.policy.calendar.elapsed(start, end), (), False
        closed = _merge([*self.walk.pauses, *gaps])
        paused = stop is None and bool(self.open_pause)
        if stop is not None:
            # A stopped metric ignores what happened after it stopped, but a pause still
            # open when it stopped (responded while paused) held it until then.
            every = _merge([*closed, *self.open_pause])
            closed = [(a, min(b, stop)) for a, b in every if a < stop]
        elapsed = self.policy.calendar.elapsed(start, end, _merge([*closed, *self.open_pause]))
        return elapsed, tuple(closed), paused

    def metric(
        self,
        metric: Metric,
        start: datetime,
        stop: datetime | None,
        priority: Priority,
        gaps: Sequence[tuple[datetime, datetime]] = (),
        *,
        cycle: int = 0,
        earlier_breaches: int = 0,
    ) -> MetricClock | None:
        target = self.policy.target(priority, metric)
        if target is None:
            return None
        calendar = self.policy.calendar
        elapsed, pauses, paused = self.span(start, stop, gaps)
        due_at = None if paused else calendar.due(start, target, pauses).astimezone(UTC)
        if stop is not None:
            state = MetricState.BREACHED if elapsed > target else MetricState.MET
        elif paused:
            state = MetricState.PAUSED
        else:
            state = MetricState.BREACHED if elapsed > target else MetricState.RUNNING
        clock = MetricClock(
            metric=metric,
            target=target,
            started_at=start,
            elapsed=elapsed,
            remaining=target - elapsed,
            due_at=due_at,
            stopped_at=stop,
            state=state,
            cycle=cycle,
            earlier_breaches=earlier_breaches,
            calendar=calendar,
            pauses=pauses,
        )
        if due_at is not None:
            clock._instants[target] = due_at  # instant_at(target) is the due instant
        return clock


def _walk(events: Sequence[ClockEvent], default: Priority, now: datetime) -> _Walk:
    """Replay the events up to ``now`` (the ledger and the simulation replay the same way)."""
    walk: _Walk | None = None
    for event in sorted(events, key=lambda event: event.at):
        if event.at > now:
            break
        if walk is None:
            if event.kind is EventKind.CREATED:
                walk = _Walk(event.at, event.priority or default)
            continue
        walk.apply(event)
    if walk is None:
        raise ClockError("a ticket clock needs a 'created' event at or before now")
    return walk


def compute_clock(events: Sequence[ClockEvent], policy: Policy, now: datetime) -> TicketClock:
    """Replay a ticket's events and measure every metric at ``now`` (see module docstring)."""
    now = as_utc(now, "now")
    walk = _walk(events, policy.default_priority, now)
    measure = _Measure(policy, walk, now)
    metrics: dict[Metric, MetricClock] = {}

    first = walk.first_response
    found = measure.metric(
        Metric.FIRST_RESPONSE,
        walk.created,
        first.stop if first else None,
        (first.priority if first else None) or walk.priority,
        walk.resolved_gaps,
    )
    if found:
        metrics[Metric.FIRST_RESPONSE] = found

    found = measure.metric(
        Metric.RESOLUTION,
        walk.created,
        walk.resolved_since,
        (walk.resolution_priority if walk.resolved_since else None) or walk.priority,
        walk.resolved_gaps,
    )
    if found:
        metrics[Metric.RESOLUTION] = found

    if walk.cycles:
        earlier = 0
        for cycle in walk.cycles[:-1]:
            done = measure.metric(
                Metric.NEXT_RESPONSE, cycle.start, cycle.stop, cycle.priority or walk.priority
            )
            earlier += bool(done and done.breached)
        last = walk.cycles[-1]
        found = measure.metric(
            Metric.NEXT_RESPONSE,
            last.start,
            last.stop,
            last.priority or walk.priority,
            cycle=len(walk.cycles) - 1,
            earlier_breaches=earlier,
        )
        if found:
            metrics[Metric.NEXT_RESPONSE] = found

    return TicketClock(
        now=now,
        priority=walk.priority,
        paused=walk.paused_since is not None,
        resolved=walk.resolved_since is not None,
        metrics=metrics,
        next_event_at=_next_event_at(metrics.values(), policy, now),
        created_at=walk.created,
        paused_since=walk.paused_since,
    )


def _next_event_at(metrics, policy: Policy, now: datetime) -> datetime | None:
    """The earliest instant after ``now`` when a running metric crosses a threshold."""
    upcoming: list[datetime] = []
    for clock in metrics:
        if not clock.running:
            continue
        candidates = [clock.instant_at_fraction(rule.fraction) for rule in policy.nudges]
        candidates.append(clock.due_at)
        every = policy.reescalate_every
        if every is not None and clock.elapsed >= clock.target:
            # The first re-escalation still ahead: floor(overdue / every) + 1.
            seq = (clock.elapsed - clock.target) // every + 1
            candidates.append(clock.reescalation_at(seq, every))
        upcoming.extend(at for at in candidates if at is not None and at > now)
    return min(upcoming, default=None)


__all__ = [
    "ClockError",
    "ClockEvent",
    "EventKind",
    "MetricClock",
    "MetricState",
    "TicketClock",
    "as_utc",
    "compute_clock",
]
