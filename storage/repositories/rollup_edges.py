"""What the rollups cannot hold, read from tickets: the parts of days around the instants of a
question (stops, starts and due instants in a window of less than a day), the few stopped
metrics whose whole story must be looked at (due within the at-risk horizon, or stopped
after now), and the metrics still running on unresolved tickets. Every read is a range of
an index a day or less wide, or the partial index of unresolved tickets.

The counting rules are ``storage.repositories.ticket_conditions``' (the SQL breach rule);
the windows count what ``storage.repositories.rollups`` counts on whole days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
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
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from sla.targets import Metric
from storage.columns import UTCDateTime
from storage.repositories._sql import dialect_name
from storage.repositories.compliance_tally import Micros, micros_of
from storage.repositories.rollup_reads import GroupKey, ValuesKey, keys_of
from storage.repositories.ticket_conditions import (
    TICKETS,
    at_risk_by,
    breached_by,
    in_scope,
    metric_column,
    running,
    unresolved,
)


def _grouped(metric: Metric, detailed: bool) -> tuple[Any, ...]:
    target = metric_column(metric, "target_s")
    return (TICKETS.c.channel_id, TICKETS.c.priority, target) if detailed else ()


def _keys(metric: Metric, detailed: bool) -> tuple[Any, Any, Any]:
    return keys_of(TICKETS.c, detailed, target=metric_column(metric, "target_s"))


def _key(metric: str, channel: str | None, priority: str | None, target: float | None
         ) -> GroupKey:
    return channel, priority, metric, None if target is None else float(target)


def _at(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _scope(scoped: bool) -> list[ColumnElement[bool]]:
    return in_scope(bindparam("workspace_id"), bindparam("channel_id") if scoped else None)


def _risky(metric: Metric) -> ColumnElement[bool]:
    """The elapsed half of the at-risk rule, on the stored (final) elapsed time."""
    return metric_column(metric, "elapsed_s") / metric_column(metric, "target_s") >= bindparam(
        "fraction", type_=Float())


def _params(workspace_id: int, channel_id: str | None, **values: Any) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "channel_id": channel_id, **values}


def _window_counts(metric: Metric, column: str) -> dict[str, ColumnElement[int]]:
    """What the rollups count on the day of a metric's ``column`` instant (their names)."""
    stopped, due = metric_column(metric, "stopped_at"), metric_column(metric, "due_at")
    late = and_(due.is_not(None), due < stopped)
    if column == "stopped_at":
        return {"stopped": func.count(),
                "breached": _count_if(metric_column(metric, "breached").is_(True)),
                "late_until": _count_if(late),
                "risk_until": _count_if(and_(_risky(metric), or_(due.is_(None), stopped <= due)))}
    if column == "started_at":
        return {"started": func.count(), "risk_from": _count_if(_risky(metric))}
    return {"late_from": _count_if(late), "risk_until": _count_if(and_(_risky(metric), late))}


class WindowAsk(NamedTuple):
    """One part of a day to count from tickets: the stopped metrics whose ``column``
    (stopped_at, started_at or due_at) falls in ``[low, high)``, the counts named (see
    ``Window``), and for stops their elapsed times too when ``values``."""

    column: str
    names: tuple[str, ...]
    low: datetime
    high: datetime
    values: bool = False


@cache
def _windows_statement(dialect: str, scoped: bool, detailed: bool,
                       shapes: tuple[tuple[str, tuple[str, ...], bool], ...]
                       ) -> CompoundSelect[Any]:
    """Every window asked for, per metric (and channel, priority, target), in one statement:
    one SELECT per window and metric, each a plain index range (an OR of ranges lets a
    planner walk the index from the first to the last), counted as the rollups count."""
    parts = []
    for n, (column, names, values) in enumerate(shapes):
        for metric in Metric:
            stopped, at = metric_column(metric, "stopped_at"), metric_column(metric, column)
            counts = _window_counts(metric, column)
            padded = [counts[name] for name in names]
            padded += [literal(0)] * (_WIDTH - len(padded))
            micros = cast(func.round(metric_column(metric, "elapsed_s") * 1_000_000), BigInteger)
            agg = func.group_concat(micros) if dialect == "sqlite" else func.array_agg(micros)
            parts.append(
                select(literal(metric.value).label("metric"), literal(n).label("window"),
                       *_keys(metric, detailed), *padded, agg if values else null())
                .where(*_scope(scoped), stopped.is_not(None), at >= _at(f"low{n}"),
                       at < _at(f"high{n}"))
                .group_by(*_grouped(metric, detailed))
            )
    return union_all(*parts)


_WIDTH = 4  # the most counts a window is asked for


@dataclass
class Window:
    """Counts of one window per group, by name (``stopped``, ``breached``, ``late_until``,
    ``risk_until`` of stops; ``started``, ``risk_from`` of starts; ``late_from``,
    ``risk_until`` of due instants), and elapsed times of stops when asked for."""

    counts: dict[GroupKey, dict[str, int]] = field(default_factory=dict)
    elapsed: dict[ValuesKey, list[Micros]] = field(default_factory=dict)


def windows(
    session: Session, *, workspace_id: int, channel_id: str | None,
    asks: Sequence[WindowAsk], fraction: float, detailed: bool,
) -> list[Window]:
    """The windows asked for (parts of days), read from tickets in one statement."""
    found = [Window() for _ in asks]
    if not asks:
        return found
    params = _params(workspace_id, channel_id, fraction=fraction)
    for n, ask in enumerate(asks):
        params |= {f"low{n}": ask.low, f"high{n}": ask.high}
    statement = _windows_statement(dialect_name(session), channel_id is not None, detailed,
                                   tuple((a.column, a.names, a.values) for a in asks))
    for metric, n, channel, priority, target, *rest in session.execute(statement, params):
        names = asks[n].names
        counts = {name: int(value) for name, value in zip(names, rest, strict=False)}
        if not any(counts.values()):  # a metric of the union with nothing in the window
            continue
        found[n].counts[_key(metric, channel, priority, target)] = counts
        if asks[n].values:
            found[n].elapsed.setdefault((channel, priority, metric), []).append(
                micros_of(rest[_WIDTH], counts.get("stopped")))
    return found


@dataclass(frozen=True)
class StoppedMetric:
    """A stopped metric's stored columns, for a question asked of it whole."""

    key: GroupKey
    target_s: float
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime
    elapsed_s: float


@cache
def _stopped_statement(scoped: bool, ranges: int) -> CompoundSelect[Any]:
    parts = []
    for metric in Metric:
        started, stopped, due = (metric_column(metric, name)
                                 for name in ("started_at", "stopped_at", "due_at"))
        target = metric_column(metric, "target_s")
        wanted = [and_(due >= _at("due_low"), due <= _at("due_high"))]
        wanted += [and_(stopped >= _at(f"low{n}"), stopped < _at(f"high{n}"))
                   for n in range(ranges)]
        parts.append(
            select(literal(metric.value).label("metric"), TICKETS.c.channel_id,
                   TICKETS.c.priority, target, started, due, stopped,
                   metric_column(metric, "elapsed_s"))
            .where(*_scope(scoped), stopped.is_not(None), target.is_not(None),
                   started.is_not(None), or_(*wanted))
        )
    return union_all(*parts)


def stopped_metrics(
    session: Session, *, workspace_id: int, channel_id: str | None,
    due_between: tuple[datetime, datetime], stopped_in: Sequence[tuple[datetime, datetime]],
    detailed: bool,
) -> list[StoppedMetric]:
    """Stopped metrics due within ``due_between`` (both ends included) or stopped in one of
    the ``stopped_in`` ranges (each ``[low, high)``)."""
    params = _params(workspace_id, channel_id, due_low=due_between[0], due_high=due_between[1])
    for n, (low, high) in enumerate(stopped_in):
        params |= {f"low{n}": low, f"high{n}": high}
    statement = _stopped_statement(channel_id is not None, len(stopped_in))
    return [
        StoppedMetric(_key(metric, channel, priority, target) if detailed else _key(
                          metric, None, None, None),
                      float(target), started, due, stopped, float(elapsed or 0.0))
        for metric, channel, priority, target, started, due, stopped, elapsed
        in session.execute(statement, params)
    ]


@cache
def _running_statement(scoped: bool, t_is_now: bool, t_before_is_now: bool, detailed: bool
                       ) -> Select[Any]:
    """Metrics still running on unresolved tickets: open at ``t`` (late, at risk), or open
    and late at ``t_before``; per (channel, priority, targets of each metric). One pass over
    the partial index of unresolved tickets (the conditions are filters, not WHERE clauses:
    a condition on a metric's column would tempt the planner into that metric's index)."""
    counts = []
    for metric in Metric:
        started = metric_column(metric, "started_at")
        open_now = and_(running(metric), started < _at("t"))
        breached_now = breached_by(metric, _at("t"), seen_now=t_is_now)
        at_risk = at_risk_by(metric, _at("t"), horizon_end=_at("t_horizon"),
                             fraction=bindparam("fraction", type_=Float()))
        counts += [
            _count_if(open_now), _count_if(and_(open_now, breached_now)),
            _count_if(and_(open_now, not_(breached_now), at_risk)),
            _count_if(and_(running(metric), started < _at("t_before"), breached_by(
                metric, _at("t_before"), seen_now=t_before_is_now))),
        ]
    targets = [metric_column(metric, "target_s") for metric in Metric]
    keys = (TICKETS.c.channel_id, TICKETS.c.priority, *targets)
    shown = keys if detailed else (null(), null(), *(null() for _ in targets))
    statement = select(*shown, *counts).where(*_scope(scoped), unresolved())
    return statement.group_by(*keys) if detailed else statement


def running_counts(
    session: Session, *, workspace_id: int, channel_id: str | None, t: datetime,
    t_before: datetime, now: datetime, horizon_end: datetime, fraction: float,
    detailed: bool,
) -> dict[GroupKey, tuple[int, int, int, int]]:
    """Per group: running metrics open at ``t``, of them late, at risk; and late at
    ``t_before`` (as ``sla.compliance`` counts them, from the stored columns)."""
    statement = _running_statement(channel_id is not None, t == now, t_before == now, detailed)
    found: dict[GroupKey, tuple[int, int, int, int]] = {}
    width = len(Metric)
    for channel, priority, *rest in session.execute(statement, _params(
            workspace_id, channel_id, t=t, t_before=t_before, t_horizon=horizon_end,
            fraction=fraction)):
        targets, counts = rest[:width], [int(value) for value in rest[width:]]
        for index, metric in enumerate(Metric):
            mine = counts[4 * index: 4 * index + 4]
            if mine[0] + mine[3]:  # tickets whose policy does not measure it count none
                # Rows differing in another metric's target share this metric's group.
                key = _key(metric.value, channel, priority, targets[index])
                before = found.get(key, (0, 0, 0, 0))
                found[key] = (before[0] + mine[0], before[1] + mine[1], before[2] + mine[2],
                              before[3] + mine[3])
    return found


@cache
def _tickets_statement(scoped: bool) -> CompoundSelect[Any]:
    """Per channel: tickets created in ``[c_low, c_high)``, resolved in ``[r_low, r_high)``,
    not resolved; one SELECT each (each an index range of its own)."""
    c = TICKETS.c
    parts = []
    for kind, where in (("created", and_(c.created_at >= _at("c_low"),
                                         c.created_at < _at("c_high"))),
                        ("resolved", and_(c.resolved_at >= _at("r_low"),
                                          c.resolved_at < _at("r_high"))),
                        ("unresolved", c.resolved_at.is_(None))):
        parts.append(select(literal(kind).label("kind"), c.channel_id, func.count())
                     .where(*_scope(scoped), where).group_by(c.channel_id))
    return union_all(*parts)


def ticket_edges(
    session: Session, *, workspace_id: int, channel_id: str | None,
    created_in: tuple[datetime, datetime], resolved_in: tuple[datetime, datetime],
) -> dict[str, tuple[int, int, int]]:
    """Per channel: tickets created in one range, resolved in another, and not resolved."""
    found: dict[str, list[int]] = {}
    kinds = ("created", "resolved", "unresolved")
    for kind, channel, count in session.execute(_tickets_statement(channel_id is not None),
                                                _params(workspace_id, channel_id,
                                                        c_low=created_in[0],
                                                        c_high=created_in[1],
                                                        r_low=resolved_in[0],
                                                        r_high=resolved_in[1])):
        found.setdefault(channel, [0, 0, 0])[kinds.index(kind)] = int(count)
    return {channel: (created, resolved, unresolved_now)
            for channel, (created, resolved, unresolved_now) in found.items()}
