"""The breaches a period counts, to list the worst: stopped metrics with their final time over
target (from the rollups' breach records and, for the parts of days at the edges, from
tickets), and the metrics still running past their due instant (whose time over target is
the caller's to measure: it grows until they stop).

The metrics listed are those ``sla.compliance`` counts as breached in ``[start, end)`` seen at
``now``: stopped in it past their target, or open at ``t = min(end, now)`` and late by then.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import and_, literal, or_, select, union_all
from sqlmodel import Session

from sla.targets import Metric
from storage.repositories import rollup_reads as reads
from storage.repositories.rollup_days import ceil_day, day_of
from storage.repositories.rollup_reads import Records
from storage.repositories.rollups import (
    EPOCH,
    NO_DUE,
)
from storage.repositories.ticket_conditions import (
    TICKETS,
    breached_by,
    in_scope,
    metric_column,
    running,
    unresolved,
)


class StoppedBreach(NamedTuple):
    """A stopped metric counted as breached, and by how much it went over its target."""

    over_by: timedelta
    ticket_id: int
    metric: Metric


class RunningBreach(NamedTuple):
    """A metric still running that is late at the instant looked at, as last stored."""

    ticket_id: int
    channel_id: str
    metric: Metric
    due_at: datetime | None  # None while paused
    elapsed_s: float
    target_s: float


def stopped_breaches(
    *, session: Session, workspace_id: int, start: datetime, end: datetime, now: datetime,
    limit: int, channel_id: str | None = None,
) -> list[StoppedBreach]:
    """The stopped metrics counted as breached, most over their target first: the first
    ``limit`` and any tied with the last of them."""
    t_micros = (min(end, now) - EPOCH) // _MICRO
    scope = _Scope(session, workspace_id, channel_id, limit)
    # Stopped in the period past their target.
    found = scope.stopped(start, end, lambda records: records[:, 3] == 1)

    def late_at_t(records: Records) -> Any:
        return (records[:, 2] != NO_DUE) & (records[:, 2] < t_micros)

    # Open and late at t, stopped since (outside the period).
    t = min(end, now)
    found += scope.stopped(max(t, end), None, late_at_t)
    if t < start:
        found += scope.stopped(t, start, late_at_t)
    return _top(found, limit)


def _top(found: list[StoppedBreach], limit: int) -> list[StoppedBreach]:
    """The first ``limit`` by time over target, with any tied with the last of them."""
    found.sort(key=lambda breach: breach.over_by, reverse=True)
    if len(found) > limit:
        last = found[limit - 1].over_by
        found = [breach for breach in found if breach.over_by >= last]
    return found


_MICRO = timedelta(microseconds=1)


class _Scope(NamedTuple):
    session: Session
    workspace_id: int
    channel_id: str | None
    limit: int

    def stopped(self, low: datetime, high: datetime | None,
                keep: Callable[[Records], Any]) -> list[StoppedBreach]:
        """The worst records ``keep`` accepts of the metrics stopped in ``[low, high)``: the
        records of the days it touches, those of the parts of days kept by their stop
        instant."""
        first, last = day_of(low), None if high is None else ceil_day(high)
        low_micros = (low - EPOCH) // _MICRO
        high_micros = None if high is None else (high - EPOCH) // _MICRO
        found: list[StoppedBreach] = []
        for metric, records in reads.breach_records(
                self.session, workspace_id=self.workspace_id, channel_id=self.channel_id,
                low=first, high=last).items():
            stopped = records[:, 4]
            inside = stopped >= low_micros
            if high_micros is not None:
                inside &= stopped < high_micros
            found += _worst(metric, records[inside & keep(records)], self.limit)
        return found


def _worst(metric: str, records: Records, limit: int) -> list[StoppedBreach]:
    """The records among the ``limit`` most over target (and ties), as breaches."""
    if len(records) > limit:
        over = records[:, 0]
        cut = np.partition(over, len(over) - limit)[len(over) - limit]
        records = records[over >= cut]
    return [StoppedBreach(timedelta(microseconds=row[0]), row[1], Metric(metric))
            for row in records.tolist()]


def running_breaches(
    *, session: Session, workspace_id: int, t: datetime, now: datetime,
    over_at_least: timedelta | None = None, channel_id: str | None = None,
) -> Generator[RunningBreach, None, None]:
    """The metrics running on unresolved tickets that are open and late at ``t`` (as
    ``sla.compliance`` counts them from the stored columns): the paused ones first, then
    the earliest due first, read as the caller consumes them (a caller after the most
    overdue stops early).

    With ``over_at_least``, only those that may be that far over their target by ``now``: a
    running metric is at most the wall-clock time since its due instant over (a paused one
    exactly as stored, which its pause froze). One pass per metric over the partial index
    of unresolved tickets: the rule sits in expressions no other index can serve.
    """
    parts = []
    for metric in Metric:
        due, elapsed, target = (metric_column(metric, name)
                                for name in ("due_at", "elapsed_s", "target_s"))
        late = [running(metric), metric_column(metric, "started_at") < t,
                breached_by(metric, t, seen_now=t == now)]
        if over_at_least is not None:
            late.append(or_(and_(due.is_not(None), due <= now - over_at_least),
                            and_(due.is_(None),
                                 elapsed - target >= over_at_least.total_seconds())))
        parts.append(select(TICKETS.c.id, TICKETS.c.channel_id, literal(metric.value),
                            due.label("due_at"), elapsed, target)
                     .where(*in_scope(workspace_id, channel_id), unresolved(), *late))
    union = union_all(*parts).subquery()
    statement = select(union).order_by(union.c.due_at.is_not(None), union.c.due_at,
                                       *list(union.c)[:1])
    result = session.execute(statement)
    try:
        for ticket, channel, metric, due, elapsed, target in result:
            yield RunningBreach(ticket, channel, Metric(metric), due, float(elapsed or 0.0),
                                float(target))
    finally:  # a caller that stopped early leaves no statement open
        result.close()
