"""Compliance aggregates in SQL: the numbers of ``sla.compliance.summarize``, without loading
tickets into Python.

Each metric's stored columns (see ``storage.models.Ticket``) are one ``MetricOutcome``;
the counting rules are those of ``sla.compliance`` (its module docstring). Closed metrics
are counted on covering indexes ``(workspace, [channel,] <metric>_stopped_at, breached,
elapsed, started, due)``; open ones come from unresolved tickets (a partial index) plus,
for a past instant, metrics that stopped after it. Median and p90 are nearest-rank over the
period's elapsed column, read straight off the same covering index and selected with numpy
(parsed and partitioned in C: neither engine sorts tens of thousands of values faster).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import numpy as np
from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlmodel import Session

from sla.compliance import ComplianceError, ComplianceSummary, MetricSummary, percent
from sla.events import as_utc
from sla.targets import Metric
from storage.columns import UTCDateTime
from storage.models import UNRESOLVED, Ticket

PERCENTILES = (50, 90)


@dataclass
class _Counts:
    closed_met: int = 0
    closed_breached: int = 0
    open: int = 0
    at_risk: int = 0
    breached_now: int = 0
    previous_met: int = 0
    previous_breached: int = 0
    percentiles: dict[int, timedelta | None] = field(default_factory=dict)

    @property
    def closed(self) -> int:
        return self.closed_met + self.closed_breached

    def add(self, other: _Counts) -> None:
        for name in ("closed_met", "closed_breached", "open", "at_risk", "breached_now",
                     "previous_met", "previous_breached"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self, metric: Metric | None) -> MetricSummary:
        met = self.closed_met
        breached = self.closed_breached + self.breached_now
        met_percent = percent(met, breached)
        previous = percent(self.previous_met, self.previous_breached)
        return MetricSummary(
            metric=metric,
            met=met,
            breached=breached,
            met_percent=met_percent,
            closed_met=self.closed_met,
            closed_breached=self.closed_breached,
            closed_met_percent=percent(self.closed_met, self.closed_breached),
            open=self.open,
            at_risk=self.at_risk,
            breached_now=self.breached_now,
            median_elapsed=self.percentiles.get(50),
            p90_elapsed=self.percentiles.get(90),
            previous_met_percent=previous,
            trend_points=(
                None if met_percent is None or previous is None else met_percent - previous
            ),
        )


def compliance_counts(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    channel_id: str | None = None,
    at_risk_fraction: float = 0.8,
    horizon: timedelta = timedelta(hours=1),
) -> ComplianceSummary:
    """Compliance of a workspace (or one channel) for ``[start, end)`` seen at ``now``.

    Equal to ``sla.compliance.summarize`` over the stored outcomes of the same tickets,
    trend against the previous period of the same length included. First response and
    resolution are always listed; next response only when some ticket has it in play.
    """
    start, end, now = as_utc(start, "start"), as_utc(end, "end"), as_utc(now, "now")
    if end <= start:
        raise ComplianceError(f"period end {end.isoformat()} must be after its start")
    if not 0 < at_risk_fraction <= 1:
        raise ComplianceError(f"at_risk_fraction must be in (0, 1], got {at_risk_fraction!r}")
    previous_start = start - (end - start)
    t_now, t_before = min(end, now), min(start, now)
    params = {
        "workspace_id": workspace_id, "channel_id": channel_id, "previous_start": previous_start,
        "start": start, "end": end, "t_now": t_now, "t_before": t_before,
        "t_horizon": t_now + horizon, "fraction": float(at_risk_fraction),
    }
    scoped = channel_id is not None
    # A handful of statements whatever the scope, built once per shape with bound
    # parameters: building them costs more than running them.
    counts = {metric: _Counts() for metric in Metric}
    dialect = session.get_bind().dialect.name
    elapsed: dict[Metric, np.ndarray] = {}
    for metric, period, total, breached, late_before, values in session.execute(
        _closed_statement(dialect, scoped), params
    ):
        tally = counts[Metric(metric)]
        if period == "current":
            elapsed[Metric(metric)] = _micros(values, int(total))
            tally.closed_breached, tally.closed_met = int(breached), int(total) - int(breached)
        else:
            tally.previous_breached += int(breached)
            tally.previous_met += int(total) - int(breached)
        tally.previous_breached += int(late_before)
    running = session.execute(_running_statement(scoped, t_now == now, t_before == now),
                              params).one()
    for index, metric in enumerate(Metric):
        total, breached, at_risk, breached_before = running[4 * index: 4 * index + 4]
        tally = counts[metric]
        tally.open += int(total)
        tally.breached_now += int(breached)
        tally.at_risk += int(at_risk)
        tally.previous_breached += int(breached_before)
    for metric, total, breached, at_risk, breached_before in session.execute(
        _stopped_after_statement(scoped, t_now == now, t_before == now), params
    ):
        tally = counts[Metric(metric)]
        tally.open += int(total)
        tally.breached_now += int(breached)
        tally.at_risk += int(at_risk)
        tally.previous_breached += int(breached_before)
    per_metric = {
        metric: tally for metric, tally in counts.items()
        if metric is not Metric.NEXT_RESPONSE or _has_any(tally)
    }
    overall = _Counts()
    for tally in per_metric.values():
        overall.add(tally)
    _percentiles(elapsed, per_metric, overall)
    return ComplianceSummary(
        start=start,
        end=end,
        now=now,
        metrics={metric: counts.summary(metric) for metric, counts in per_metric.items()},
        overall=overall.summary(None),
    )


def _col(metric: Metric, name: str):
    return getattr(Ticket, f"{metric.value}_{name}")


def _count_if(condition):
    return func.count().filter(condition)


def _scope(scoped: bool) -> list:
    clauses = [Ticket.workspace_id == bindparam("workspace_id")]
    if scoped:
        clauses.append(Ticket.channel_id == bindparam("channel_id"))
    return clauses


@cache
def _closed_statement(dialect: str, scoped: bool):
    """How many metrics stopped, and how many of them late, in the period and the previous
    one: one covering index range each. The period's rows also tell which of them were
    open and already late at the previous period's end (it is the period's start), and
    give their elapsed times for the percentiles, aggregated into one value by the database
    (a row per value costs several times more to fetch)."""
    parts = []
    for metric in Metric:
        stopped, breached = _col(metric, "stopped_at"), _col(metric, "breached")
        started, due = _col(metric, "started_at"), _col(metric, "due_at")
        t_before = bindparam("t_before")
        late_before = _count_if(and_(started < t_before, stopped >= t_before,
                                     due.is_not(None), due < t_before))
        # Whole microseconds (exact, as timedelta keeps them): integers are quicker than
        # REALs for the database to write out and for Python to read and sort.
        micros = cast(func.round(_col(metric, "elapsed_s") * 1_000_000), BigInteger)
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
                    _count_if(breached.is_(True)),
                    *extra,
                ).where(*_scope(scoped), stopped >= bindparam(low), stopped < bindparam(high))
            )
    return union_all(*parts)


@cache
def _running_statement(scoped: bool, t_now_is_now: bool, t_before_is_now: bool):
    """Metrics still running on unresolved tickets, open at the period's ``t`` (and late), or
    open and late at the previous period's: one pass over the partial index, four counts
    per metric."""
    t_now, t_before = bindparam("t_now"), bindparam("t_before")
    columns = []
    for metric in Metric:
        started = _col(metric, "started_at")
        running = and_(_col(metric, "target_s").is_not(None),
                       _col(metric, "stopped_at").is_(None), started < t_now)
        breached_now = _breached_at(metric, t_now, t_now_is_now)
        columns += [
            _count_if(running),
            _count_if(and_(running, breached_now)),
            _count_if(and_(running, ~breached_now, _at_risk(metric, t_now))),
            _count_if(and_(running, started < t_before,
                           _breached_at(metric, t_before, t_before_is_now))),
        ]
    # The partial index's predicate word for word, so that the planner can use it.
    return select(*columns).where(*_scope(scoped), text(f"tickets.{UNRESOLVED}"))


@cache
def _stopped_after_statement(scoped: bool, t_now_is_now: bool, t_before_is_now: bool):
    """Metrics that stopped after the period (or, for a period still ahead of ``now``,
    between now and its start): open at the period's ``t`` all the same, and for the
    previous period, open at its end and maybe already late. Stopped within the periods
    is the closed statement's business."""
    start, end = bindparam("start"), bindparam("end")
    t_now, t_before = bindparam("t_now"), bindparam("t_before")
    zero = literal(0)
    parts = []
    for metric in Metric:
        started, stopped = _col(metric, "started_at"), _col(metric, "stopped_at")
        breached_now = _breached_at(metric, t_now, t_now_is_now)
        open_now = and_(started < t_now, stopped >= t_now)
        label = literal(metric.value).label("metric")
        parts.append(select(
            label,
            _count_if(open_now),
            _count_if(and_(open_now, breached_now)),
            _count_if(and_(open_now, ~breached_now, _at_risk(metric, t_now))),
            _count_if(and_(started < t_before, _breached_at(metric, t_before, t_before_is_now))),
        ).where(*_scope(scoped), stopped >= end))
        parts.append(select(
            label,
            _count_if(open_now),
            _count_if(and_(open_now, breached_now)),
            _count_if(and_(open_now, ~breached_now, _at_risk(metric, t_now))),
            zero,
        ).where(*_scope(scoped), stopped >= t_before, stopped < start))
    return union_all(*parts)


def _breached_at(metric: Metric, t, t_is_now: bool):
    """``sla.compliance``'s rule for an open metric: due before ``t``, or (seen at now, or
    paused without a due instant) its stored breach."""
    due, stopped = _col(metric, "due_at"), _col(metric, "stopped_at")
    return or_(
        and_(due.is_not(None), due < t),
        and_(stopped.is_(None), _col(metric, "breached").is_(True),
             literal(True) if t_is_now else due.is_(None)),
    )


def _at_risk(metric: Metric, t):
    due, at_risk_at = _col(metric, "due_at"), _col(metric, "at_risk_at")
    return or_(
        _col(metric, "elapsed_s") / _col(metric, "target_s") >= bindparam("fraction"),
        and_(at_risk_at.is_not(None), at_risk_at <= t),
        and_(due.is_not(None), due <= bindparam("t_horizon", type_=UTCDateTime())),
    )


def _has_any(counts: _Counts) -> bool:
    return any((counts.closed, counts.open, counts.previous_met, counts.previous_breached))


def _percentiles(elapsed: dict[Metric, np.ndarray], per_metric, overall) -> None:
    """Nearest-rank median and p90 per metric and pooled (``sla.compliance.nearest_rank``).

    Selected, not sorted: ``numpy.partition`` puts the wanted ranks in place in linear time.
    """
    runs = []
    for metric, tally in per_metric.items():
        values = elapsed.get(metric, _EMPTY)
        tally.percentiles = _ranks(values)
        runs.append(values)
    overall.percentiles = _ranks(np.concatenate(runs) if runs else _EMPTY)


def _ranks(values: np.ndarray) -> dict[int, timedelta | None]:
    if values.size == 0:
        return dict.fromkeys(PERCENTILES)
    ranks = [max(math.ceil(p / 100 * values.size), 1) - 1 for p in PERCENTILES]
    chosen = np.partition(values, ranks)
    return {p: timedelta(microseconds=int(chosen[rank]))
            for p, rank in zip(PERCENTILES, ranks, strict=True)}


_EMPTY = np.empty(0, dtype=np.int64)


def _micros(found, count: int) -> np.ndarray:
    """The period's elapsed microseconds as integers, parsed in C (numpy)."""
    if not found:
        return _EMPTY
    if isinstance(found, str):  # SQLite's group_concat: "12,7,..."
        values = np.fromstring(found, dtype=np.int64, sep=",")
        if values.size != count:  # something unexpected in the text: parse it the slow way
            values = np.array([int(part) for part in found.split(",")], dtype=np.int64)
        return values
    return np.array(found, dtype=np.int64)  # PostgreSQL's array_agg
