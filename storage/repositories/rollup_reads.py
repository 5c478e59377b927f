"""Reads of the daily rollups: counts summed over ranges of whole days, the elapsed times of
the metrics stopped on some days, and ticket counts. What the days before and after an
instant hold is ``storage.repositories.rollups``' business; the parts of days around the
instants of a question are read from tickets (``storage.repositories.rollup_edges``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Date,
    LargeBinary,
    Select,
    bindparam,
    case,
    cast,
    func,
    null,
    select,
)
from sqlmodel import Session

from storage.repositories._sql import dialect_name
from storage.repositories.compliance_tally import EMPTY, Micros
from storage.repositories.rollups import (
    BREACH_FIELDS,
    METRIC_ROLLUPS,
    TICKET_ROLLUPS,
    WORKSPACE_ROLLUPS,
)

# (channel, priority, metric, target seconds); channel, priority and target are None when the
# question does not ask for the detail (per metric only: fewer groups, cheaper to sum).
GroupKey = tuple[str | None, str | None, str, float | None]
ValuesKey = tuple[str | None, str | None, str]  # channel, priority, metric
Records = npt.NDArray[np.int64]  # breach records, one a row (see ``rollups.breach_record``)
NO_RECORDS: Records = np.empty((0, BREACH_FIELDS), dtype=np.int64)
Parts = Counter[str]  # named counts of one group, added up from several reads

T = TICKET_ROLLUPS.c


def rollup_rows(scoped: bool, detailed: bool) -> Any:
    """The rollup rows a question reads: a workspace's totals unless it asks about a channel
    or for details."""
    return METRIC_ROLLUPS.c if scoped or detailed else WORKSPACE_ROLLUPS.c


@dataclass(frozen=True)
class DayRanges:
    """Which whole days a period question sums: ``[lo, hi)`` for the metrics stopped in the
    period and in the one before, and from which day on for the instants ``t`` (the period's
    end or now) and ``t_before`` (its start or now)."""

    current: tuple[date, date]
    previous: tuple[date, date]
    after_t: date
    after_t_before: date


# The suffix sums: count name in the rollups -> part name, from the day on.
_AFTER_T = {"stopped": "t_stopped", "started": "t_started", "late_until": "t_late_until",
            "late_from": "t_late_from", "risk_until": "t_risk_until",
            "risk_from": "t_risk_from"}
_AFTER_T_BEFORE = {"late_until": "tb_late_until", "late_from": "tb_late_from"}


def day_sums(
    session: Session, *, workspace_id: int, channel_id: str | None, days: DayRanges,
    detailed: bool,
) -> dict[GroupKey, Parts]:
    """Per group (see ``GroupKey``): the counts of the whole days of ``days``."""
    lowest = min(days.current[0], days.previous[0], days.after_t, days.after_t_before)
    params = {
        "workspace_id": workspace_id, "channel_id": channel_id, "lowest": lowest,
        "cur_lo": days.current[0], "cur_hi": days.current[1],
        "prev_lo": days.previous[0], "prev_hi": days.previous[1],
        "t_day": days.after_t, "tb_day": days.after_t_before,
    }
    found: dict[GroupKey, Parts] = defaultdict(Counter)
    for channel, priority, metric, target, *sums in session.execute(
            _sums_statement(channel_id is not None, detailed), params):
        found[channel, priority, metric, _seconds(target)].update(
            dict(zip(_SUM_NAMES, (int(value or 0) for value in sums), strict=True)))
    return found


_SUM_NAMES = ("cur_stopped", "cur_breached", "prev_stopped", "prev_breached",
              *_AFTER_T.values(), *_AFTER_T_BEFORE.values())


def _day(name: str) -> Any:
    return bindparam(name, type_=Date())


def _sum_in(rows: Any, column: str, low: str, high: str | None) -> ColumnElement[int]:
    inside = (rows.day >= _day(low) if high is None
              else (rows.day >= _day(low)) & (rows.day < _day(high)))
    return func.sum(case((inside, rows[column]), else_=0))


def _seconds(target: float | None) -> float | None:
    return None if target is None else float(target)


def keys_of(columns: Any, detailed: bool, *, target: Any = None) -> tuple[Any, Any, Any]:
    """The channel, priority and target columns a question groups by, or NULLs."""
    if detailed:
        return (columns.channel_id, columns.priority,
                columns.target_s if target is None else target)
    return (null().label("channel_id"), null().label("priority"), null().label("target"))


@cache
def _sums_statement(scoped: bool, detailed: bool) -> Select[Any]:
    rows = rollup_rows(scoped, detailed)
    sums = [
        _sum_in(rows, "stopped", "cur_lo", "cur_hi"),
        _sum_in(rows, "breached", "cur_lo", "cur_hi"),
        _sum_in(rows, "stopped", "prev_lo", "prev_hi"),
        _sum_in(rows, "breached", "prev_lo", "prev_hi"),
        *(_sum_in(rows, column, "t_day", None) for column in _AFTER_T),
        *(_sum_in(rows, column, "tb_day", None) for column in _AFTER_T_BEFORE),
    ]
    channel, priority, target = keys_of(rows, detailed)
    return (select(channel, priority, rows.metric, target, *sums)
            .where(*scope_clauses(rows, scoped), rows.day >= _day("lowest"))
            .group_by(*_grouped(rows, detailed)))


def _grouped(rows: Any, detailed: bool) -> tuple[Any, ...]:
    if detailed:
        return rows.channel_id, rows.priority, rows.metric, rows.target_s
    return (rows.metric,)


def scope_clauses(columns: Any, scoped: bool) -> list[ColumnElement[bool]]:
    """A workspace, and one channel when the question is scoped to it."""
    clauses = [columns.workspace_id == bindparam("workspace_id")]
    if scoped:
        clauses.append(columns.channel_id == bindparam("channel_id"))
    return clauses


def elapsed_values(
    session: Session, *, workspace_id: int, channel_id: str | None, days: tuple[date, date],
    detailed: bool,
) -> dict[ValuesKey, Micros]:
    """Per (channel, priority, metric) or per metric: elapsed microseconds of the metrics
    stopped on the days ``[first, end)``."""
    if days[0] >= days[1]:
        return {}
    statement = _values_statement(dialect_name(session), channel_id is not None, detailed)
    found = {}
    for channel, priority, metric, blob in blob_rows(session, statement, {
            "workspace_id": workspace_id, "channel_id": channel_id, "lo": days[0],
            "hi": days[1]}):
        found[channel, priority, metric] = live_values(blob)
    return found


def blob_rows(session: Session, statement: Select[Any], params: dict[str, Any]
               ) -> list[tuple[Any, ...]]:
    """Rows carrying megabytes of blobs: on PostgreSQL fetched in the binary protocol (as
    text, psycopg would have the server write every byte out in hex and then decode it)."""
    if dialect_name(session) != "postgresql":
        return [tuple(row) for row in session.execute(statement, params)]
    compiled = statement.compile(dialect=session.get_bind().dialect)
    connection = session.connection().connection.driver_connection
    with connection.cursor(binary=True) as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.construct_params(params))
        return [tuple(row) for row in cursor.fetchall()]


def concat_blobs(column: Any, dialect: str) -> ColumnElement[bytes]:
    """The blobs of a group end to end, in the database (one value instead of one a row)."""
    if dialect == "postgresql":
        return func.string_agg(column, bindparam("nothing", b"", type_=LargeBinary()))
    # SQLite's group_concat makes text of blobs: cast back (the bytes are untouched).
    return cast(func.group_concat(column, ""), LargeBinary)


@cache
def _values_statement(dialect: str, scoped: bool, detailed: bool) -> Select[Any]:
    rows = rollup_rows(scoped, detailed)
    channel, priority, _target = keys_of(rows, detailed)
    return (select(channel, priority, rows.metric,
                   concat_blobs(rows.elapsed, dialect).label("elapsed"))
            .where(*scope_clauses(rows, scoped), rows.day >= _day("lo"), rows.day < _day("hi"))
            .group_by(*_grouped(rows, detailed)[:-1] if detailed else (rows.metric,)))


def live_values(blob: bytes | None) -> Micros:
    """Elapsed values of a blob less those taken back (appended as ``-value - 1``)."""
    if not blob:
        return EMPTY
    values = np.frombuffer(bytes(blob), dtype="<i8").astype(np.int64)
    if values.min() >= 0:
        return values
    kept, taken = np.sort(values[values >= 0]), np.sort(-values[values < 0] - 1)
    # The n-th copy of a value taken back removes the n-th copy of it kept.
    position = np.searchsorted(kept, taken) + (
        np.arange(taken.size) - np.searchsorted(taken, taken))
    return np.delete(kept, position)


def breach_records(
    session: Session, *, workspace_id: int, channel_id: str | None, low: date,
    high: date | None,
) -> dict[str, Records]:
    """Per metric: the breach records (see ``rollups.BREACH_FIELDS``) of the metrics stopped
    past their target or their due instant on the days from ``low`` (to ``high``,
    excluded)."""
    rows = rollup_rows(channel_id is not None, False)
    statement = select(rows.metric, concat_blobs(rows.breaches, dialect_name(session))).where(
        *scope_clauses(rows, channel_id is not None), rows.day >= low,
        *(() if high is None else (rows.day < high,))).group_by(rows.metric)
    return {metric: live_records(blob) for metric, blob in blob_rows(
        session, statement, {"workspace_id": workspace_id, "channel_id": channel_id})}


def live_records(blob: bytes | None) -> Records:
    """Breach records of a blob less those taken back (their ticket id negated)."""
    if not blob:
        return NO_RECORDS
    rows = np.frombuffer(bytes(blob), dtype="<i8").reshape(-1, BREACH_FIELDS).astype(np.int64)
    if rows[:, 1].min() > 0:
        return rows
    balance: Counter[tuple[int, ...]] = Counter()
    for over, ticket, due, breached, stopped in rows.tolist():
        balance[over, abs(ticket), due, breached, stopped] += 1 if ticket > 0 else -1
    kept = list(balance.elements())
    return np.array(kept, dtype=np.int64).reshape(-1, BREACH_FIELDS)


def ticket_sums(
    session: Session, *, workspace_id: int, channel_id: str | None, created_from: date,
    resolved_from: date,
) -> dict[str, tuple[int, int]]:
    """Per channel: tickets created from one day on, and resolved from another day on."""
    statement = (
        select(T.channel_id,
               func.sum(case((T.day >= _day("created_from"), T.created), else_=0)),
               func.sum(case((T.day >= _day("resolved_from"), T.resolved), else_=0)))
        .where(*scope_clauses(T, channel_id is not None), T.day >= _day("lowest"))
        .group_by(T.channel_id)
    )
    return {channel: (int(created or 0), int(resolved or 0))
            for channel, created, resolved in session.execute(statement, {
                "workspace_id": workspace_id, "channel_id": channel_id,
                "created_from": created_from, "resolved_from": resolved_from,
                "lowest": min(created_from, resolved_from)})}
