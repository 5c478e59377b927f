"""Met and breached per metric for consecutive periods at once (a trend), from the rollups.

For each period ``[bounds[i], bounds[i+1])`` seen at ``now``, as ``sla.compliance`` counts
them: met are the metrics that stopped in it within their target; breached those that
stopped in it past their target, and those open and late at its ``t = min(end, now)``. What
``compliance_counts`` does for one period, for many: one read of the days of all of them,
the parts of days at their bounds, and one pass over unresolved tickets for every ``t``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from itertools import pairwise
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, func, select
from sqlmodel import Session

from sla.breach import AT_RISK_FRACTION
from sla.targets import Metric
from storage.columns import UTCDateTime
from storage.repositories import rollup_edges as edges
from storage.repositories.rollup_days import after_part, ceil_day, day_of, day_parts
from storage.repositories.rollup_reads import rollup_rows, scope_clauses
from storage.repositories.ticket_conditions import (
    breached_by,
    in_scope,
    metric_column,
    running,
    unresolved,
)

MetBreached = dict[Metric, tuple[int, int]]


def period_series(
    *, session: Session, workspace_id: int, bounds: Sequence[datetime], now: datetime,
    channel_id: str | None = None,
) -> list[MetBreached]:
    """(met, breached) per metric for each period between consecutive ``bounds`` (a day or
    more apart: the parts of days read from tickets must not overlap)."""
    periods = list(pairwise(bounds))
    if any(day_of(low) >= day_of(high) for low, high in periods):
        raise ValueError("the bounds of a series must be on different, increasing days")
    instants = [min(end, now) for _start, end in periods]
    parts = _from_days(_daily(session, workspace_id, channel_id, ceil_day(bounds[0])),
                       periods, instants)
    _add_parts_of_days(session, workspace_id, channel_id, periods, instants, parts)
    found = []
    for counts, late_running in zip(parts, _running_late(
            session, workspace_id, channel_id, instants, now), strict=True):
        found.append({
            metric: (counts[metric]["stopped"] - counts[metric]["breached"],
                     counts[metric]["breached"] + counts[metric]["late_until"]
                     - counts[metric]["late_from"] + late_running.get(metric, 0))
            for metric in Metric
        })
    return found


PeriodParts = dict[Metric, Counter[str]]


def _from_days(days: dict[date, dict[Metric, Counter[str]]],
               periods: list[tuple[datetime, datetime]], instants: list[datetime]
               ) -> list[PeriodParts]:
    """Per period: stopped and breached on its whole days; late_until and late_from on the
    days after its ``t``."""
    found: list[PeriodParts] = []
    for (start, end), t in zip(periods, instants, strict=True):
        parts: PeriodParts = defaultdict(Counter)
        first, last, t_day = ceil_day(start), day_of(end), ceil_day(t)
        for day, per_metric in days.items():
            for metric, counts in per_metric.items():
                if first <= day < last:
                    parts[metric].update(stopped=counts["stopped"], breached=counts["breached"])
                if day >= t_day:
                    parts[metric].update(late_until=counts["late_until"],
                                         late_from=counts["late_from"])
        found.append(parts)
    return found


def _add_parts_of_days(session: Session, workspace_id: int, channel_id: str | None,
                       periods: list[tuple[datetime, datetime]], instants: list[datetime],
                       parts: list[PeriodParts]) -> None:
    """The parts of days the rollups miss, read from tickets in one statement: stops in each
    period's partial days; stops and due instants in the rest of each ``t``'s day."""
    closed = [(index, part) for index, (start, end) in enumerate(periods)
              for part in day_parts(start, end)]
    after = [(index, part) for index, t in enumerate(instants)
             if (part := after_part(t)) is not None]
    asks = [(index, edges.WindowAsk("stopped_at", ("stopped", "breached"), *part))
            for index, part in closed]
    asks += [(index, edges.WindowAsk(column, names, *part)) for index, part in after
             for column, names in (("stopped_at", ("late_until",)), ("due_at", ("late_from",)))]
    found = edges.windows(session, workspace_id=workspace_id, channel_id=channel_id,
                          asks=[ask for _index, ask in asks], fraction=AT_RISK_FRACTION,
                          detailed=False)
    for (index, _ask), window in zip(asks, found, strict=True):
        for key, counts in window.counts.items():
            parts[index][Metric(key[2])].update(counts)


def _daily(session: Session, workspace_id: int, channel_id: str | None, first: date
           ) -> dict[date, dict[Metric, Counter[str]]]:
    """Per day from ``first`` on, per metric: stopped, breached, late_from, late_until."""
    statement = _daily_statement(channel_id is not None)
    days: dict[date, dict[Metric, Counter[str]]] = defaultdict(dict)
    for day, metric, stopped, breached, late_from, late_until in session.execute(
            statement, {"workspace_id": workspace_id, "channel_id": channel_id,
                        "first": first}):
        days[day][Metric(metric)] = Counter(stopped=int(stopped), breached=int(breached),
                                            late_from=int(late_from),
                                            late_until=int(late_until))
    return days


@cache
def _daily_statement(scoped: bool) -> Select[Any]:
    rows = rollup_rows(scoped, False)
    return (
        select(rows.day, rows.metric, *(func.sum(rows[name]) for name in (
            "stopped", "breached", "late_from", "late_until")))
        .where(*scope_clauses(rows, scoped), rows.day >= bindparam("first", type_=Date()))
        .group_by(rows.day, rows.metric)
    )


def _running_late(session: Session, workspace_id: int, channel_id: str | None,
                  instants: list[datetime], now: datetime) -> list[dict[Metric, int]]:
    """Per instant, per metric: running metrics of unresolved tickets open and late then."""
    counts = []
    for index, at in enumerate(instants):
        moment = bindparam(f"t{index}", at, type_=UTCDateTime())
        for metric in Metric:
            counts.append(func.count().filter(and_(
                running(metric), metric_column(metric, "started_at") < moment,
                breached_by(metric, moment, seen_now=at == now))))
    row = session.execute(select(*counts).where(
        *in_scope(workspace_id, channel_id), unresolved())).one()
    width = len(Metric)
    return [{metric: int(row[index * width + n]) for n, metric in enumerate(Metric)}
            for index in range(len(instants))]

