"""Compliance aggregates scanned from the tickets: the numbers of ``sla.compliance.summarize``
without loading tickets into Python, and the reference the rollups are checked against.

Each metric's stored columns (see ``storage.models.Ticket``) are one ``MetricOutcome``;
the counting rules are those of ``sla.compliance`` (its module docstring). Closed metrics
are counted on covering indexes ``(workspace, [channel,] <metric>_stopped_at, breached,
elapsed, started, due)``; open ones come from unresolved tickets (a partial index) plus,
for a past instant, metrics that stopped after it. Median and p90 are nearest-rank over the
period's elapsed column, read straight off the same covering index (parsed in C by numpy).
Its cost grows with the tickets of the period: ``storage.repositories.compliance`` answers
from the daily rollups instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Float,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    not_,
    null,
    select,
    union_all,
)
from sqlmodel import Session

from sla.breach import AT_RISK_FRACTION, AT_RISK_HORIZON
from sla.compliance import ComplianceSummary
from sla.targets import Metric
from storage.columns import UTCDateTime
from storage.repositories._sql import dialect_name
from storage.repositories.compliance_tally import (
    Micros,
    Tally,
    build_summary,
    checked_period,
    micros_of,
)
from storage.repositories.ticket_conditions import (
    at_risk_by,
    breached_by,
    in_scope,
    metric_column,
    running,
    unresolved,
)


def scan_compliance_counts(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    channel_id: str | None = None,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> ComplianceSummary:
    """Compliance of a workspace (or one channel) for ``[start, end)`` seen at ``now``.

    Equal to ``sla.compliance.summarize`` over the stored outcomes of the same tickets,
    trend against the previous period of the same length included. First response and
    resolution are always listed; next response only when some ticket has it in play.
    """
    start, end, now = checked_period(start, end, now, at_risk_fraction)
    t_now, t_before = min(end, now), min(start, now)
    params = {
        "workspace_id": workspace_id, "channel_id": channel_id,
        "previous_start": start - (end - start), "start": start, "end": end, "t_now": t_now,
        "t_before": t_before, "t_horizon": t_now + horizon, "fraction": float(at_risk_fraction),
    }
    shape = _Shape(channel_id is not None, t_now == now, t_before == now)
    counts, elapsed = _tally(session, params, shape)
    return build_summary(counts, elapsed, start=start, end=end, now=now)


@dataclass(frozen=True)
class _Shape:
    """What a statement's text depends on (its values are bound parameters)."""

    scoped: bool  # one channel, not the whole workspace
    t_now_is_now: bool  # the period is seen at ``now``, not at its end (already past)
    t_before_is_now: bool  # the period starts after ``now``


def _tally(
    session: Session, params: dict[str, Any], shape: _Shape
) -> tuple[dict[Metric, Tally], dict[Metric, Micros]]:
    """Every count of every metric, and the period's elapsed times of stopped metrics.

    A handful of statements whatever the scope, built once per shape with bound
    parameters: building them costs more than running them.
    """
    counts = {metric: Tally() for metric in Metric}
    elapsed: dict[Metric, Micros] = {}
    closed = _closed_statement(dialect_name(session), shape.scoped)
    for metric, period, total, breached, late_before, values in session.execute(closed, params):
        tally = counts[Metric(metric)]
        if period == "current":
            elapsed[Metric(metric)] = micros_of(values, int(total))
            tally.add_closed(total, breached)
        else:
            tally.add_previous(total, breached)
        tally.previous_breached += int(late_before)
    running = session.execute(_running_statement(shape), params).one()
    for index, metric in enumerate(Metric):
        counts[metric].add_open(*running[4 * index: 4 * index + 4])
    for metric, *found in session.execute(_stopped_after_statement(shape), params):
        counts[Metric(metric)].add_open(*found)
    return counts, elapsed


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _scope(scoped: bool) -> list[ColumnElement[bool]]:
    return in_scope(bindparam("workspace_id"), bindparam("channel_id") if scoped else None)


_T_BEFORE: BindParameter[datetime] = bindparam("t_before", type_=UTCDateTime())
_T_NOW: BindParameter[datetime] = bindparam("t_now", type_=UTCDateTime())


def _at_risk_at_t_now(metric: Metric) -> ColumnElement[bool]:
    return at_risk_by(metric, _T_NOW, horizon_end=bindparam("t_horizon", type_=UTCDateTime()),
                      fraction=bindparam("fraction", type_=Float()))


@cache
def _closed_statement(dialect: str, scoped: bool) -> CompoundSelect[*tuple[Any, ...]]:
    """How many metrics stopped, and how many of them late, in the period and the previous
    one: one covering index range each. The period's rows also tell which of them were
    open and already late at the previous period's end (it is the period's start), and
    give their elapsed times for the percentiles, aggregated into one value by the database
    (a row per value costs several times more to fetch)."""
    parts = []
    for metric in Metric:
        started, stopped = metric_column(metric, "started_at"), metric_column(metric, "stopped_at")
        late_before = _count_if(and_(started < _T_BEFORE, stopped >= _T_BEFORE,
                                     breached_by(metric, _T_BEFORE, seen_now=False)))
        # Whole microseconds (exact, as timedelta keeps them): integers are quicker than
        # REALs for the database to write out and for Python to read and sort.
        micros = cast(func.round(metric_column(metric, "elapsed_s") * 1_000_000), BigInteger)
        values = func.group_concat(micros) if dialect == "sqlite" else func.array_agg(micros)
        for period, low, high, extra in (
            ("current", "start", "end", (late_before, values)),
            ("previous", "previous_start", "start", (literal(0), null())),
        ):
            parts.append(
                select(
                    literal(metric.value).label("metric"),
                    literal(period).label("period"),
                    func.count(),
                    _count_if(metric_column(metric, "breached").is_(True)),
                    *extra,
                ).where(*_scope(scoped), stopped >= bindparam(low, type_=UTCDateTime()),
                        stopped < bindparam(high, type_=UTCDateTime()))
            )
    return union_all(*parts)


@cache
def _running_statement(shape: _Shape) -> Select[*tuple[Any, ...]]:
    """Metrics still running on unresolved tickets, open at the period's ``t`` (and late), or
    open and late at the previous period's: one pass over the partial index, four counts
    per metric."""
    columns = []
    for metric in Metric:
        started = metric_column(metric, "started_at")
        open_now = and_(running(metric), started < _T_NOW)
        breached_now = breached_by(metric, _T_NOW, seen_now=shape.t_now_is_now)
        columns += [
            _count_if(open_now),
            _count_if(and_(open_now, breached_now)),
            _count_if(and_(open_now, not_(breached_now), _at_risk_at_t_now(metric))),
            _count_if(and_(open_now, started < _T_BEFORE,
                           breached_by(metric, _T_BEFORE, seen_now=shape.t_before_is_now))),
        ]
    return select(*columns).where(*_scope(shape.scoped), unresolved())


@cache
def _stopped_after_statement(shape: _Shape) -> CompoundSelect[*tuple[Any, ...]]:
    """Metrics that stopped after the period (or, for a period still ahead of ``now``,
    between now and its start): open at the period's ``t`` all the same, and for the
    previous period, open at its end and maybe already late. Stopped within the periods
    is the closed statement's business."""
    start = bindparam("start", type_=UTCDateTime())
    end = bindparam("end", type_=UTCDateTime())
    parts = []
    for metric in Metric:
        started, stopped = metric_column(metric, "started_at"), metric_column(metric, "stopped_at")
        breached_now = breached_by(metric, _T_NOW, seen_now=shape.t_now_is_now)
        open_now = and_(started < _T_NOW, stopped >= _T_NOW)
        open_counts = (
            literal(metric.value).label("metric"),
            _count_if(open_now),
            _count_if(and_(open_now, breached_now)),
            _count_if(and_(open_now, not_(breached_now), _at_risk_at_t_now(metric))),
        )
        late_before = _count_if(and_(
            started < _T_BEFORE, breached_by(metric, _T_BEFORE, seen_now=shape.t_before_is_now)))
        parts.append(select(*open_counts, late_before)
                     .where(*_scope(shape.scoped), stopped >= end))
        parts.append(select(*open_counts, literal(0))
                     .where(*_scope(shape.scoped), stopped >= _T_BEFORE, stopped < start))
    return union_all(*parts)
