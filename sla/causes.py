"""Why a metric breached, read from its ledger: the causes a support lead would name.

The rules, checked in this order (the first that holds is *the* cause of a breach):

1. ``priority changed``: the priority whose target applies was set while the metric ran
   (a raised priority's shorter target is measured from the start).
2. ``reopened`` (resolution only): the ticket was reopened after being resolved.
3. ``reassigned``: the ticket passed from one assignee to another while the metric ran.
4. ``out of hours`` (first and next response): the metric started while the calendar was
   closed, so the wait began before anyone was there to answer.
5. ``paused longer than worked``: pauses held more business time than the clock counted.
6. ``still waiting``: the metric has not stopped.
7. otherwise ``late in business hours``: nothing above; the time ran out while the team
   was working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sla.clock import MetricClock
from sla.responders import ASSIGNED, ActorEvent, assignee_of
from sla.segments import Segment, SegmentKind
from sla.targets import Metric, Priority

__all__ = ["Cause", "CauseKind", "breach_causes", "handoffs", "main_cause"]

_RESPONSES = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE)


class CauseKind(StrEnum):
    """One reason a metric went past its target, in the order the rules check them."""

    PRIORITY = "priority changed"
    REOPENED = "reopened"
    REASSIGNED = "reassigned"
    OUT_OF_HOURS = "out of hours"
    PAUSED = "paused longer than worked"
    STILL_WAITING = "still waiting"
    LATE = "late in business hours"


@dataclass(frozen=True)
class Cause:
    """A cause with what it counted: ``times`` (reopens, handoffs), the ``priority`` set,
    ``at`` (when an out-of-hours clock started), ``held`` (business time paused)."""

    kind: CauseKind
    metric: Metric
    times: int = 0
    priority: Priority | None = None
    at: datetime | None = None
    held: timedelta = timedelta(0)

    @property
    def phrase(self) -> str:
        """The cause in one short phrase (the digest's breach lines)."""
        answer = "a first responder" if self.metric is Metric.FIRST_RESPONSE else "an answer"
        return {
            CauseKind.PRIORITY: f"priority changed to {self.priority} mid-way",
            CauseKind.REOPENED: f"reopened{_times(self.times)}",
            CauseKind.REASSIGNED: f"reassigned{_times(self.times)}",
            CauseKind.OUT_OF_HOURS: f"waited for {answer} out of hours",
            CauseKind.PAUSED: "paused longer than worked",
            CauseKind.STILL_WAITING: (
                "still open" if self.metric is Metric.RESOLUTION else "still not answered"),
            CauseKind.LATE: (
                "resolved late in business hours" if self.metric is Metric.RESOLUTION
                else "answered late in business hours"),
        }[self.kind]


def _times(n: int) -> str:
    return "" if n == 1 else f" {n} times"


def handoffs(history: Iterable[ActorEvent]) -> tuple[datetime, ...]:
    """The instants a ticket passed from one assignee to another (unassigning in between
    does not hide a handoff; the first assignment is none)."""
    found = []
    last: str | None = None
    for event in sorted((e for e in history if e.kind == ASSIGNED), key=lambda e: e.at):
        person = assignee_of(event)
        if person is None:
            continue
        if last is not None and person != last:
            found.append(event.at)
        last = person
    return tuple(found)


def breach_causes(
    clock: MetricClock,
    segments: Sequence[Segment],
    priority: Priority,
    *,
    changes: Sequence[tuple[datetime, Priority]] = (),
    reopens: int = 0,
    handed_over: Sequence[datetime] = (),
) -> tuple[Cause, ...]:
    """Every rule 1-6 that holds for ``clock`` (its ledger ``segments``, the ``priority``
    whose target applies), in rule order; empty when none does."""
    metric = clock.metric
    end = clock.stopped_at
    raised = [p for at, p in changes
              if at > clock.started_at and (end is None or at <= end)]
    causes = []
    if raised and priority is raised[-1]:
        causes.append(Cause(CauseKind.PRIORITY, metric, priority=priority))
    if metric is Metric.RESOLUTION and reopens:
        causes.append(Cause(CauseKind.REOPENED, metric, times=reopens))
    moves = sum(1 for at in handed_over if at >= clock.started_at and (end is None or at <= end))
    if moves:
        causes.append(Cause(CauseKind.REASSIGNED, metric, times=moves))
    first_open = next((s for s in segments if s.kind is SegmentKind.RUNNING), None)
    if metric in _RESPONSES and first_open is not None and first_open.start > clock.started_at:
        causes.append(Cause(CauseKind.OUT_OF_HOURS, metric, at=first_open.start))
    held = sum((s.held for s in segments), timedelta(0))
    if held > clock.elapsed:
        causes.append(Cause(CauseKind.PAUSED, metric, held=held))
    if not clock.stopped:
        causes.append(Cause(CauseKind.STILL_WAITING, metric))
    return tuple(causes)


def main_cause(causes: Sequence[Cause], metric: Metric) -> Cause:
    """The first of ``causes`` (rule order), else rule 7: late in business hours."""
    return causes[0] if causes else Cause(CauseKind.LATE, metric)
