"""Weekly working hours: the ``hours`` mapping a calendar is built from, hours as people
write them (``"Mon-Fri 09:00-17:00, Sat 10:00-14:00"``, ``"24x7"``), and the same text back.

The mapping is ``{"mon": [("09:00", "17:00")], ...}``: several intervals a day are allowed,
``"24:00"`` only as an end, and an interval ending before it starts runs overnight into the
next day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sla.business_time import DAY, SECOND, CalendarError, Weekly

__all__ = [
    "ALL_WEEK",
    "DAYS",
    "HOURS_EXAMPLE",
    "describe_hours",
    "normalise_hours",
    "parse_hours_text",
    "weekly_intervals",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_EXAMPLE = "e.g. 'Mon-Fri 09:00-17:00, Sat 10:00-14:00' or '24x7'"
ALL_WEEK: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {day: (("00:00", "24:00"),) for day in DAYS}
)

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_FULL_DAY_NAMES = {
    "mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
}  # fmt: skip
_WEEKDAY_KEYS = {**{day: day for day in DAYS}, **{v: k for k, v in _FULL_DAY_NAMES.items()}}


def _time_of_day(text: object, *, day: str, is_end: bool) -> int:
    """'HH:MM' as seconds since midnight; '24:00' only as an end."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(f"hours for {day!r}: {text!r} is not a time like '09:00'")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not is_end)):
        where = "an end" if is_end else "a start"
        raise CalendarError(f"hours for {day!r}: {text!r} is not a valid time for {where}")
    return hour * 3600 + minute * 60


def normalise_hours(
    hours: Mapping[str, Iterable[tuple[str, str]]],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Validate ``hours``; return every weekday's intervals as sorted ``HH:MM`` pairs."""
    if not isinstance(hours, Mapping):
        raise CalendarError(f"hours must map weekdays to intervals, {HOURS_EXAMPLE}")
    result: dict[str, tuple[tuple[str, str], ...]] = {day: () for day in DAYS}
    for raw_day, intervals in hours.items():
        day = _WEEKDAY_KEYS.get(raw_day.strip().lower()) if isinstance(raw_day, str) else None
        if day is None:
            raise CalendarError(f"hours: unknown weekday {raw_day!r}; use mon, tue, ... sun")
        if isinstance(intervals, str | bytes) or not isinstance(intervals, Iterable):
            raise CalendarError(
                f"hours for {day!r} must be a list of [start, end] pairs like [['09:00', '17:00']]"
            )
        pairs = []
        for interval in intervals:
            if isinstance(interval, str | bytes) or len(interval) != 2:
                raise CalendarError(
                    f"hours for {day!r}: {interval!r} is not a [start, end] pair like "
                    "['09:00', '17:00']"
                )
            start = _time_of_day(interval[0], day=day, is_end=False)
            end = _time_of_day(interval[1], day=day, is_end=True)
            if start == end:
                raise CalendarError(
                    f"hours for {day!r}: {interval[0]}-{interval[1]} is empty; "
                    "write 00:00-24:00 for a whole day"
                )
            pairs.append((_hhmm(start), _hhmm(end)))
        result[day] = tuple(sorted(set(result[day]) | set(pairs)))
    return result


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds(text: str) -> int:
    return int(text[:2]) * 3600 + int(text[3:]) * 60


def weekly_intervals(hours: Mapping[str, tuple[tuple[str, str], ...]]) -> Weekly:
    """Per-weekday merged (start, end) microsecond offsets; overnight shifts split at midnight."""
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for index, day in enumerate(DAYS):
        for start_text, end_text in hours[day]:
            start, end = _seconds(start_text) * SECOND, _seconds(end_text) * SECOND
            if end > start:
                days[index].append((start, end))
            else:  # overnight: the rest of this day, then the next day until `end`
                days[index].append((start, DAY))
                if end:
                    days[(index + 1) % 7].append((0, end))
    weekly = []
    for intervals in days:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        weekly.append(tuple(merged))
    return tuple(weekly)


# --------------------------------------------------------------------- hours text


_DAY_WORDS = {
    **{day: (i,) for i, day in enumerate(DAYS)},
    **{name: (i,) for i, name in enumerate(_FULL_DAY_NAMES.values())},
    "tues": (1,), "weds": (2,), "thur": (3,), "thurs": (3,),
    "daily": tuple(range(7)), "everyday": tuple(range(7)),
    "weekdays": tuple(range(5)), "weekends": (5, 6), "weekend": (5, 6),
}  # fmt: skip
_CLAUSE = re.compile(r"(?P<first>[a-z]+)(?:\s*(?:-|to)\s*(?P<last>[a-z]+))?\s+(?P<times>.+)")
_CLOCK = re.compile(r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?P<ampm>am|pm)?")
_RANGE = re.compile(r"(?P<start>[^-]+)-(?P<end>[^-]+)")


def parse_hours_text(text: str) -> dict[str, list[tuple[str, str]]]:
    """Read hours as people write them; raises CalendarError naming the part it cannot read."""
    if not isinstance(text, str) or not text.strip():
        raise CalendarError(f"the hours are empty; write {HOURS_EXAMPLE}")
    dashes = text.strip().lower().replace("\u2013", "-").replace("\u2014", "-")
    cleaned = re.sub(r"\s+", " ", dashes.replace("\n", ","))  # one clause per line is fine too
    cleaned = cleaned.replace("every day", "everyday").replace("all day", "allday")
    if cleaned in ("24x7", "24/7", "always"):
        return {day: list(intervals) for day, intervals in ALL_WEEK.items()}
    hours: dict[str, list[tuple[str, str]]] = {}
    for clause in filter(None, (part.strip() for part in re.split(r"[,;]", cleaned))):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise CalendarError(f"cannot read {clause!r}; write days then times, {HOURS_EXAMPLE}")
        days = _day_range(match["first"], match["last"], clause)
        for interval in _time_ranges(match["times"], clause):
            for day in days:
                hours.setdefault(DAYS[day], []).append(interval)
    if not hours:
        raise CalendarError(f"no hours found in {text.strip()!r}; write {HOURS_EXAMPLE}")
    return hours


def _day_range(first: str, last: str | None, clause: str) -> tuple[int, ...]:
    for word in filter(None, (first, last)):
        if word not in _DAY_WORDS:
            raise CalendarError(
                f"unknown day {word!r} in {clause!r}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"
            )
    if last is None:
        return _DAY_WORDS[first]
    if len(_DAY_WORDS[first]) != 1 or len(_DAY_WORDS[last]) != 1:
        raise CalendarError(f"cannot read the day range {first}-{last} in {clause!r}")
    start, stop = _DAY_WORDS[first][0], _DAY_WORDS[last][0]
    return tuple((start + i) % 7 for i in range((stop - start) % 7 + 1))  # Fri-Mon wraps


def _time_ranges(times: str, clause: str) -> list[tuple[str, str]]:
    # Glue each range into one token ("9 am - 5 pm" -> "9am-5pm"), then split on separators.
    glued = re.sub(r"\s*(?:-|\bto\b)\s*", "-", times)
    glued = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", glued)
    ranges = []
    for part in filter(None, re.split(r"\s*(?:\band\b|&|\+|/|\s)\s*", glued)):
        if part in ("allday", "24h"):
            ranges.append(("00:00", "24:00"))
            continue
        match = _RANGE.fullmatch(part)
        if match is None:
            raise CalendarError(
                f"cannot read the time range {part!r} in {clause!r}; write e.g. 09:00-17:00"
            )
        start, end = _clock(match["start"], clause), _clock(match["end"], clause)
        if start == 86_400:
            raise CalendarError(f"{part!r} in {clause!r} starts at 24:00; a day starts at 00:00")
        end = end or 86_400  # "18:00-00:00" and "6pm-12am" run until midnight
        if start == end:
            raise CalendarError(f"the time range {part!r} in {clause!r} is empty")
        ranges.append((_hhmm(start), _hhmm(end)))
    return ranges


def _clock(text: str, clause: str) -> int:
    """Seconds since midnight for '09:00', '9:30', '9am', '5:30pm' (86400 for '24:00')."""
    match = _CLOCK.fullmatch(text)
    if match is None or (match["m"] is None and match["ampm"] is None):
        raise CalendarError(f"cannot read the time {text!r} in {clause!r}; write 09:00 or 9am")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise CalendarError(f"{text!r} in {clause!r} is not a time (use 1-12 with am/pm)")
        hour = hour % 12 + (12 if match["ampm"] == "pm" else 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise CalendarError(f"{text!r} in {clause!r} is not a time of day")
    return hour * 3600 + minute * 60


def describe_hours(hours: Mapping[str, tuple[tuple[str, str], ...]]) -> str:
    """Group consecutive weekdays with equal intervals: 'Mon-Fri 09:00-17:00, Sat 10:00-14:00'."""
    groups: list[tuple[int, int, tuple[tuple[str, str], ...]]] = []
    for index, day in enumerate(DAYS):
        intervals = hours[day]
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == intervals:
            groups[-1] = (groups[-1][0], index, intervals)
        else:
            groups.append((index, index, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        days = (
            DAYS[first].title() if first == last else f"{DAYS[first].title()}-{DAYS[last].title()}"
        )
        parts.append(f"{days} {' '.join(f'{a}-{b}' for a, b in intervals)}")
    return ", ".join(parts)
