"""Where every second of a metric's span went: running, held (paused or resolved), or the
calendar closed (outside business hours, or a holiday on a working weekday).

The counted time of the segments adds up to the clock's elapsed time exactly (to the
microsecond); held segments also say how much business time they kept off the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sla.calendar import BusinessCalendar

__all__ = ["Held", "Segment", "SegmentKind", "segments"]


class SegmentKind(StrEnum):
    """What the clock did during a segment of a metric's span."""

    RUNNING = "running"
    PAUSED = "paused"
    RESOLVED = "resolved"
    CLOSED = "outside business hours"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` (UTC) of one kind; ``counted`` is business time that ran on the clock,
    ``held`` the business time a pause (or a resolved spell) kept off it."""

    kind: SegmentKind
    start: datetime
    end: datetime
    counted: timedelta = timedelta(0)
    held: timedelta = timedelta(0)
    reason: str | None = None

    @property
    def wall(self) -> timedelta:
        """Wall-clock length."""
        return self.end - self.start


# A span that held the clock: (start, end, PAUSED or RESOLVED, the reason given if any).
Held = tuple[datetime, datetime, SegmentKind, str | None]


def segments(
    calendar: BusinessCalendar, start: datetime, end: datetime, held: Sequence[Held]
) -> list[Segment]:
    """``[start, end)`` cut into segments: the ``held`` spans, and running or closed time
    between them (held spans that overlap count once, for the earlier)."""
    pieces: list[Segment] = []
    cursor = start
    for a, b, kind, reason in sorted(held, key=lambda h: (h[0], h[1])):
        a, b = max(a, cursor), min(b, end)
        if b <= a:
            continue
        pieces.append(Segment(kind, a, b, held=calendar.elapsed(a, b), reason=reason))
        cursor = b
    return _between(start, end, pieces, lambda lo, hi: _worked(calendar, lo, hi))


def _worked(calendar: BusinessCalendar, start: datetime, end: datetime) -> list[Segment]:
    """``[start, end)`` with no pause: running while open, else closed or holiday."""
    if end <= start:
        return []
    running = [
        Segment(SegmentKind.RUNNING, a, b, counted=b - a)
        for a, b in calendar.open_intervals(start, end)
    ]
    return _between(start, end, running, lambda lo, hi: _closed(calendar, lo, hi))


def _between(
    start: datetime,
    end: datetime,
    pieces: Sequence[Segment],
    gap: Callable[[datetime, datetime], list[Segment]],
) -> list[Segment]:
    """``pieces`` (in order, inside ``[start, end)``) with ``gap``'s segments around them."""
    found: list[Segment] = []
    cursor = start
    for piece in pieces:
        found += gap(cursor, piece.start)
        found.append(piece)
        cursor = piece.end
    return found + gap(cursor, end)


def _closed(calendar: BusinessCalendar, start: datetime, end: datetime) -> list[Segment]:
    """A closed stretch, with the local working days that were holidays told apart."""
    if end <= start:
        return []
    zone = calendar.zone
    pieces: list[Segment] = []
    day = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    cursor = start
    while day <= last:
        if calendar.works_on(day) and calendar.is_holiday(day):
            lo = max(cursor, _midnight(day, zone))
            hi = min(end, _midnight(day + timedelta(days=1), zone))
            if lo < hi:
                if cursor < lo:
                    pieces.append(Segment(SegmentKind.CLOSED, cursor, lo))
                if pieces and pieces[-1].kind is SegmentKind.HOLIDAY and pieces[-1].end == lo:
                    pieces[-1] = Segment(SegmentKind.HOLIDAY, pieces[-1].start, hi)
                else:
                    pieces.append(Segment(SegmentKind.HOLIDAY, lo, hi))
                cursor = hi
        day += timedelta(days=1)
    if cursor < end:
        pieces.append(Segment(SegmentKind.CLOSED, cursor, end))
    return pieces


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
