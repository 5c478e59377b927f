"""A ticket's stored history measured on one calendar: everything about its metrics that
does not depend on targets, so one measurement serves any number of policies.

``measure`` replays the events as ``compute_clock`` does (``sla.replay``) and keeps, for
each metric, the priority whose target applies, start, stop, business elapsed time and the
pauses; next response also keeps the elapsed time of each earlier cycle. ``sla.simulation``
then judges the measurements under a policy's targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sla.events import ClockEvent
from sla.policy import Policy
from sla.replay import Intervals, Meter, replay
from sla.targets import Metric, Priority

__all__ = ["Measured", "Span", "TicketHistory", "measure"]


@dataclass(frozen=True)
class TicketHistory:
    """One ticket as stored: its key, channel, assignee and events."""

    key: str
    channel: str
    events: tuple[ClockEvent, ...]
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A metric of one ticket measured on a calendar, before any target is applied."""

    metric: Metric
    priority: Priority  # whose target applies
    started_at: datetime
    stopped_at: datetime | None
    elapsed: timedelta
    pauses: Intervals
    paused: bool
    held: Intervals  # every pause, the open one up to now
    earlier: tuple[tuple[Priority, timedelta], ...] = ()  # earlier next-response cycles
    cycle: int = 0


@dataclass(frozen=True)
class Measured:
    """A ticket measured on one calendar at ``now``."""

    history: TicketHistory
    priority: Priority  # the ticket's priority now (reports group by it)
    created_at: datetime
    resolved_at: datetime | None
    spans: tuple[Span, ...]

    def alive_in(self, start: datetime, end: datetime) -> bool:
        """Created before ``end`` and not resolved before ``start`` (the report's rule)."""
        return self.created_at < end and (self.resolved_at is None or self.resolved_at >= start)


def measure(history: TicketHistory, policy: Policy, now: datetime) -> Measured:
    """Replay ``history`` on ``policy``'s calendar up to ``now``; targets play no part
    (raises ClockError like the clock)."""
    walk = replay(history.events, policy.default_priority, now)
    meter = Meter(policy.calendar, walk, now)
    spans = []
    for s in walk.spans():
        elapsed, pauses, paused = meter.measure(s)
        held = pauses if s.stop is not None else tuple(sorted([*pauses, *meter.open_pause]))
        earlier = tuple((cycle.priority, meter.measure(cycle)[0]) for cycle in s.earlier)
        spans.append(Span(s.metric, s.priority, s.start, s.stop, elapsed, pauses, paused, held,
                          earlier, s.cycle))
    return Measured(history, walk.priority, walk.created, walk.resolved_since, tuple(spans))
