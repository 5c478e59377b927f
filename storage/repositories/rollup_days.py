"""Day arithmetic of the rollups: a rollup day is a UTC calendar day; a period's whole days
are read from the rollups, the parts of days around its instants from tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

_ONE_DAY = timedelta(days=1)


def day_of(at: datetime) -> date:
    """The UTC day of an instant: the rollups' unit."""
    return (at if at.tzinfo is UTC else at.astimezone(UTC)).date()


def midnight(day: date) -> datetime:
    """The UTC instant a rollup day begins."""
    return datetime.combine(day, time(), UTC)


def ceil_day(at: datetime) -> date:
    """The first day that begins at or after ``at``."""
    day = day_of(at)
    return day if midnight(day) == at else day + _ONE_DAY


def whole_days(low: datetime, high: datetime) -> tuple[date, date]:
    """The days wholly inside ``[low, high)``, as ``[first, end)`` (empty: first >= end)."""
    return ceil_day(low), day_of(high)


def day_parts(low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of ``[low, high)`` outside its whole days (read from tickets)."""
    first, end = whole_days(low, high)
    if first >= end:
        return [(low, high)]
    parts = []
    if low < midnight(first):
        parts.append((low, midnight(first)))
    if midnight(end) < high:
        parts.append((midnight(end), high))
    return parts


def after_part(at: datetime) -> tuple[datetime, datetime] | None:
    """The rest of ``at``'s day (None at midnight): what a sum over the days after misses."""
    following = midnight(ceil_day(at))
    return (at, following) if at < following else None
