"""A ticket's SLA clock: its metrics' business elapsed time, due instants and states at ``now``.

Semantics (the README's design notes: "Clocks are recomputed from events"):

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
  elapsed exactly equal to the target is met (``sla.breach``).

Events are sorted by instant (stable for ties); events before the first CREATED, events
after ``now`` and events that make no sense in the current state (RESUMED while running,
a second RESOLVED, ...) are ignored. The replay itself is ``sla.replay``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sla.breach import is_breached
from sla.calendar import BusinessCalendar
from sla.events import ClockEvent, as_utc
from sla.policy import Policy
from sla.replay import Intervals, Meter, MetricSpan, replay
from sla.targets import Metric, Priority

__all__ = ["MetricClock", "MetricState", "TicketClock", "compute_clock"]


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
    pauses: Intervals = field(default=(), repr=False, compare=False)
    # instant_at's answers: the clock is immutable, and the thresholds, the at-risk mark and
    # the scheduler's plan all ask for the same few instants.
    _instants: dict[timedelta, datetime | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def breached(self) -> bool:
        """True when this metric exceeded its target (for next response: in any cycle)."""
        return is_breached(self.elapsed, self.target) or self.earlier_breaches > 0

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


def compute_clock(events: Sequence[ClockEvent], policy: Policy, now: datetime) -> TicketClock:
    """Replay a ticket's events and measure every metric at ``now`` (see module docstring)."""
    now = as_utc(now, "now")
    walk = replay(events, policy.default_priority, now)
    meter = Meter(policy.calendar, walk, now)
    metrics: dict[Metric, MetricClock] = {}
    for span in walk.spans():
        found = _metric_clock(meter, policy, span)
        if found is not None:
            metrics[span.metric] = found
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


def _metric_clock(meter: Meter, policy: Policy, span: MetricSpan) -> MetricClock | None:
    """The clock of one metric span, or None when the policy sets no target for it."""
    target = policy.target(span.priority, span.metric)
    if target is None:
        return None
    earlier = 0
    for cycle in span.earlier:
        cycle_target = policy.target(cycle.priority, cycle.metric)
        earlier += cycle_target is not None and is_breached(meter.measure(cycle)[0], cycle_target)
    elapsed, pauses, paused = meter.measure(span)
    calendar = policy.calendar
    due_at = None if paused else calendar.due(span.start, target, pauses).astimezone(UTC)
    if paused:  # only a metric still running can be paused
        state = MetricState.PAUSED
    elif is_breached(elapsed, target):
        state = MetricState.BREACHED
    else:
        state = MetricState.MET if span.stop is not None else MetricState.RUNNING
    clock = MetricClock(
        metric=span.metric,
        target=target,
        started_at=span.start,
        elapsed=elapsed,
        remaining=target - elapsed,
        due_at=due_at,
        stopped_at=span.stop,
        state=state,
        cycle=span.cycle,
        earlier_breaches=earlier,
        calendar=calendar,
        pauses=pauses,
    )
    if due_at is not None:
        clock._instants[target] = due_at  # instant_at(target) is the due instant
    return clock


def _next_event_at(
    metrics: Iterable[MetricClock], policy: Policy, now: datetime
) -> datetime | None:
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

