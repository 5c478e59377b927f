"""Replaying a ticket's events up to ``now``: where each metric runs, and what held it.

``replay`` walks the events in order of their instants (stable for ties) and keeps the
ticket's priority, pauses, resolved spells and response cycles; ``Walk.spans`` says from
when to when each metric runs and against which priority's target, as ``sla.clock``'s
semantics define it; ``Meter`` measures a span's business time on a calendar. The clock,
the ledger and the simulation all read a ticket through these, so they agree by
construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sla.calendar import BusinessCalendar
from sla.events import ClockError, ClockEvent, EventKind
from sla.targets import Metric, Priority

__all__ = ["Intervals", "Meter", "MetricSpan", "Walk", "replay"]

# Closed [start, end) intervals of wall time, sorted, e.g. pauses.
Intervals = tuple[tuple[datetime, datetime], ...]


class MetricSpan(NamedTuple):  # a tuple: the clock builds a few per ticket on every replay
    """Where one metric runs: from ``start`` to ``stop`` (None: still running), measured
    against ``priority``'s target, held by ``gaps`` (resolved spells) as well as pauses.

    Next response is the current or last cycle (``cycle`` counts from 0); ``earlier`` are
    the cycles before it, each a span of its own.
    """

    metric: Metric
    start: datetime
    stop: datetime | None
    priority: Priority
    gaps: Intervals = ()
    cycle: int = 0
    earlier: tuple[MetricSpan, ...] = ()


@dataclass
class _Cycle:
    start: datetime
    stop: datetime | None = None
    priority: Priority | None = None  # in force when it stopped


@dataclass
class Walk:
    """The state of a ticket while its events are replayed, and at the end of the replay."""

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

    def spans(self) -> list[MetricSpan]:
        """First response, resolution and (once a cycle started) next response, in order."""
        first, gaps = self.first_response, tuple(self.resolved_gaps)
        found = [
            MetricSpan(
                Metric.FIRST_RESPONSE,
                self.created,
                first.stop if first else None,
                (first.priority if first else None) or self.priority,
                gaps,
            ),
            MetricSpan(
                Metric.RESOLUTION,
                self.created,
                self.resolved_since,
                (self.resolution_priority if self.resolved_since else None) or self.priority,
                gaps,
            ),
        ]
        if self.cycles:
            *before, last = (
                MetricSpan(Metric.NEXT_RESPONSE, c.start, c.stop, c.priority or self.priority,
                           cycle=i)
                for i, c in enumerate(self.cycles)
            )
            found.append(last._replace(earlier=tuple(before)))
        return found

    def apply(self, event: ClockEvent) -> None:
        """Move the state on by one event (in order of their instants)."""
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

    def _running_cycle(self) -> _Cycle | None:
        return self.cycles[-1] if self.cycles and self.cycles[-1].stop is None else None

    def _end_pause(self, at: datetime) -> None:
        if self.paused_since is not None:
            self.pauses.append((self.paused_since, at))
            self.paused_since = None

    def _stop_cycle(self, at: datetime) -> None:
        cycle = self._running_cycle()
        if cycle is not None:
            cycle.stop, cycle.priority = at, self.priority


def replay(events: Sequence[ClockEvent], default: Priority, now: datetime) -> Walk:
    """Replay the events up to ``now``; ``default`` is the priority when CREATED has none."""
    walk: Walk | None = None
    for event in sorted(events, key=lambda event: event.at):
        if event.at > now:
            break
        if walk is None:
            if event.kind is EventKind.CREATED:
                walk = Walk(event.at, event.priority or default)
            continue
        walk.apply(event)
    if walk is None:
        raise ClockError("a ticket clock needs a 'created' event at or before now")
    return walk


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


class Meter:
    """Measures the metric spans of one replayed ticket on a calendar, with its pauses."""

    def __init__(self, calendar: BusinessCalendar, walk: Walk, now: datetime) -> None:
        self.calendar, self.walk, self.now = calendar, walk, now
        paused_since = walk.paused_since
        self.open_pause = [(paused_since, now)] if paused_since is not None else []

    def measure(self, span: MetricSpan) -> tuple[timedelta, Intervals, bool]:
        """Business elapsed time of ``span``, the pauses that held it, and whether it is
        paused now: everything about a metric that does not depend on its target."""
        start, stop, gaps = span.start, span.stop, span.gaps
        end = stop if stop is not None else self.now
        if not self.walk.pauses and not gaps and not self.open_pause:  # most tickets
            return self.calendar.elapsed(start, end), (), False
        closed = _merge([*self.walk.pauses, *gaps])
        paused = stop is None and bool(self.open_pause)
        if stop is not None:
            # A stopped metric ignores what happened after it stopped, but a pause still
            # open when it stopped (responded while paused) held it until then.
            every = _merge([*closed, *self.open_pause])
            closed = [(a, min(b, stop)) for a, b in every if a < stop]
        elapsed = self.calendar.elapsed(start, end, _merge([*closed, *self.open_pause]))
        return elapsed, tuple(closed), paused
