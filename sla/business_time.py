"""Business-time arithmetic under ``BusinessCalendar``, in integer microseconds.

An instant is business time iff the zone's wall clock then is inside a working interval of
that local weekday and the local date is not a holiday. So on a spring-forward day the
skipped hour never happens, and on a fall-back day a repeated working hour counts twice.

For each UTC year a calendar builds (once, lazily, shared between equal calendars) the
sorted list of its business intervals as UTC instants with running totals. ``due`` and
``elapsed`` then bisect those lists, so their cost grows with the number of years spanned,
never with minutes or days. Instants are integer microseconds since the Unix epoch, which
keeps every answer exact.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sla.public_holidays import country_holidays

__all__ = [
    "DAY",
    "EPOCH",
    "SECOND",
    "CalendarError",
    "CalendarKey",
    "Weekly",
    "YearTables",
    "duration_of",
    "from_instant",
    "pause_spans",
    "to_instant",
]

SECOND = 1_000_000  # instants and durations are integer microseconds
DAY = 86_400 * SECOND
_ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Year tables are built for [Jan 1 Y, Jan 1 Y+1) UTC, so Y+1 must still be a valid year.
_MIN_YEAR, _MAX_YEAR = 2, 9998
_LAST_INSTANT = (datetime(_MAX_YEAR + 1, 1, 1, tzinfo=UTC) - EPOCH) // _ONE_US

# Weekly intervals as 7 tuples (Mon..Sun) of (start_us, end_us) offsets into the local day.
Weekly = tuple[tuple[tuple[int, int], ...], ...]
# Pauses as sorted, merged (start, end-or-None) microsecond spans.
PauseSpans = list[tuple[int, int | None]]


class CalendarError(ValueError):
    """A calendar was described badly or asked something it cannot answer."""


@dataclass(frozen=True, slots=True)
class CalendarKey:
    """Everything that decides which instants are business time (identity of a calendar)."""

    tz: str
    weekly: Weekly
    holidays: frozenset[int]  # explicit holiday dates as proleptic ordinals
    country: str | None
    subdiv: str | None


@dataclass(frozen=True, slots=True)
class _YearTable:
    """Business intervals of one UTC year: starts[i] <= t < ends[i], with running totals."""

    starts: list[int]
    ends: list[int]
    before: list[int]  # business time in the year before interval i
    through: list[int]  # business time in the year up to the end of interval i
    total: int


class YearTables:
    """The business intervals of one calendar by UTC year, and the questions asked of them."""

    def __init__(self, key: CalendarKey) -> None:
        self._key = key
        self._years: dict[int, _YearTable] = {}

    def is_open(self, t: int) -> bool:
        """True if ``t`` is business time."""
        table = self._table(_year_of(t))
        i = bisect_right(table.starts, t) - 1
        return i >= 0 and t < table.ends[i]

    def next_open(self, t: int) -> int:
        """``t`` itself if it is business time, else the next instant business time starts."""
        year = _year_of(t)
        table = self._table(year)
        i = bisect_right(table.starts, t) - 1
        if i >= 0 and t < table.ends[i]:
            return t
        i += 1
        while i >= len(table.starts):
            year += 1
            table = self._table(year)
            i = 0
        return table.starts[i]

    def due(self, cur: int, amount: int, spans: PauseSpans) -> int:
        """The instant ``amount`` business microseconds after ``cur``, not counting ``spans``."""
        if amount == 0:
            return self._first_unpaused_open(cur, spans)
        if cur + amount >= _LAST_INSTANT:  # business time never runs faster than wall time
            raise CalendarError(
                f"a duration of {timedelta(microseconds=amount)} runs past the year {_MAX_YEAR}"
            )
        for paused_at, resumed_at in spans:
            if resumed_at is not None and resumed_at <= cur:
                continue
            if paused_at > cur:
                available = self.elapsed(cur, paused_at)
                if amount <= available:
                    return self._advance(cur, amount)
                amount -= available
            if resumed_at is None:
                raise CalendarError(
                    "the clock is paused with no resume time (paused at "
                    f"{from_instant(paused_at).isoformat()}), so it has no due time yet"
                )
            cur = max(cur, resumed_at)
        return self._advance(cur, amount)

    def elapsed(self, s: int, e: int) -> int:
        """Business microseconds in [s, e), for s <= e."""
        first, last = _year_of(s), _year_of(e)
        table = self._table(first)
        if first == last:
            return _worked(table, e) - _worked(table, s)
        total = table.total - _worked(table, s)
        for year in range(first + 1, last):
            total += self._table(year).total
        return total + _worked(self._table(last), e)

    def open_intervals(self, s: int, e: int) -> list[tuple[int, int]]:
        """The business intervals inside ``[s, e)``, clipped (split only where they must be)."""
        found: list[tuple[int, int]] = []
        for year in range(_year_of(s), _year_of(e) + 1) if s < e else ():
            table = self._table(year)
            i = max(bisect_right(table.starts, s) - 1, 0)
            while i < len(table.starts) and table.starts[i] < e:
                a, b = max(table.starts[i], s), min(table.ends[i], e)
                if a < b:
                    if found and found[-1][1] == a:  # split only by the year boundary
                        found[-1] = (found[-1][0], b)
                    else:
                        found.append((a, b))
                i += 1
        return found

    def _table(self, year: int) -> _YearTable:
        table = self._years.get(year)
        if table is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise CalendarError(
                    f"the calendar only answers for years {_MIN_YEAR}..{_MAX_YEAR}, not {year}"
                )
            table = self._years[year] = _year_table(self._key, year)
        return table

    def _advance(self, cur: int, amount: int) -> int:
        """The earliest instant by which ``amount`` (> 0) business microseconds follow ``cur``."""
        year = _year_of(cur)
        table = self._table(year)
        need = _worked(table, cur) + amount
        while need > table.total:
            need -= table.total
            year += 1
            table = self._table(year)
        i = bisect_left(table.through, need)
        return table.starts[i] + need - table.before[i]

    def _first_unpaused_open(self, t: int, spans: PauseSpans) -> int:
        while True:
            t = self.next_open(t)
            for paused_at, resumed_at in spans:
                if paused_at <= t and (resumed_at is None or t < resumed_at):
                    if resumed_at is None:
                        raise CalendarError(
                            "the clock is paused with no resume time, so it has no due time yet"
                        )
                    t = resumed_at
                    break
            else:
                return t


# --------------------------------------------------------------------- instants


def to_instant(value: datetime, name: str) -> int:
    """An aware datetime as integer microseconds since the epoch (UTC)."""
    if value.__class__ is datetime and value.tzinfo is UTC:  # the common case
        return (value - EPOCH) // _ONE_US
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}; "
            "attach a zone, e.g. datetime(..., tzinfo=UTC)"
        )
    return (value - EPOCH) // _ONE_US


def from_instant(t: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=t)


# Year starts (UTC microseconds) of the years most instants fall in, for a quick lookup.
_YEAR_LOOKUP_FIRST = 1970
_YEAR_STARTS = [
    (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // _ONE_US for year in range(1970, 2201)
]


def _year_of(t: int) -> int:
    if _YEAR_STARTS[0] <= t < _YEAR_STARTS[-1]:
        return _YEAR_LOOKUP_FIRST + bisect_right(_YEAR_STARTS, t) - 1
    try:
        return from_instant(t).year
    except OverflowError:
        raise CalendarError(
            f"the calendar only answers for years {_MIN_YEAR}..{_MAX_YEAR}"
        ) from None


def duration_of(value: timedelta) -> int:
    """A non-negative duration as integer microseconds."""
    if not isinstance(value, timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(value).__name__}")
    if value < timedelta(0):
        raise CalendarError(f"a duration cannot be negative (got {value})")
    return value // _ONE_US


def pause_spans(pauses: Iterable[tuple[datetime, datetime | None]]) -> PauseSpans:
    """Pauses as sorted, merged (start, end-or-None) microsecond spans."""
    spans: PauseSpans = []
    for pair in pauses:
        try:
            paused_at, resumed_at = pair
        except (TypeError, ValueError):
            raise CalendarError(
                f"each pause must be a (paused_at, resumed_at) pair, not {pair!r}"
            ) from None
        lo = to_instant(paused_at, "paused_at")
        hi = None if resumed_at is None else to_instant(resumed_at, "resumed_at")
        if resumed_at is not None and hi is not None and hi < lo:
            raise CalendarError(
                f"a pause resumes ({resumed_at.isoformat()}) before it starts "
                f"({paused_at.isoformat()})"
            )
        spans.append((lo, hi))
    spans.sort(key=lambda span: span[0])
    merged: PauseSpans = []
    for lo, hi in spans:
        if merged:
            last_lo, last_hi = merged[-1]
            if last_hi is None:
                break  # an open pause swallows everything after it
            if lo <= last_hi:
                merged[-1] = (last_lo, None if hi is None else max(hi, last_hi))
                continue
        merged.append((lo, hi))
    return merged


def _worked(table: _YearTable, t: int) -> int:
    """Business microseconds from the start of the table's year up to ``t``."""
    i = bisect_right(table.starts, t) - 1
    if i < 0:
        return 0
    return table.before[i] + min(t, table.ends[i]) - table.starts[i]


# --------------------------------------------------------------------- year tables


@lru_cache(maxsize=256)
def _year_table(key: CalendarKey, year: int) -> _YearTable:
    """Business intervals of UTC year ``year`` for calendar ``key`` (cached across calendars)."""
    zone = ZoneInfo(key.tz)
    lo = (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // _ONE_US
    hi = (datetime(year + 1, 1, 1, tzinfo=UTC) - EPOCH) // _ONE_US
    closed = key.holidays
    if key.country:
        closed = closed | country_holidays(key.country, key.subdiv, year)
    starts: list[int] = []
    ends: list[int] = []
    # Within a run of constant UTC offset, wall time = UTC + offset is a plain shift, so each
    # local working interval maps to one UTC interval. A fall-back hour lies in two runs (so it
    # counts twice); a spring-forward hour lies in none (so it never happens).
    for run_lo, run_hi, offset in _offset_runs(zone, lo, hi):
        wall_lo, wall_hi = run_lo + offset, run_hi + offset
        for day in range(wall_lo // DAY, (wall_hi - 1) // DAY + 1):
            ordinal = day + _EPOCH_ORDINAL
            if ordinal in closed:
                continue
            midnight = day * DAY
            for begin, end in key.weekly[(ordinal - 1) % 7]:  # ordinal 1 is a Monday
                a = max(wall_lo, midnight + begin) - offset
                b = min(wall_hi, midnight + end) - offset
                if a < b:
                    if ends and ends[-1] == a:
                        ends[-1] = b  # touching intervals (e.g. 24x7) become one
                    else:
                        starts.append(a)
                        ends.append(b)
    before, through, total = [], [], 0
    for a, b in zip(starts, ends, strict=True):
        before.append(total)
        total += b - a
        through.append(total)
    return _YearTable(starts, ends, before, through, total)


def _offset_runs(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """Split [lo, hi) into runs of constant UTC offset: (start, end, offset), microseconds.

    The zone is probed daily and each change is bisected to the second (tz rules change
    offsets at whole seconds and never twice within a day).
    """
    lo_s, hi_s = lo // SECOND, hi // SECOND
    runs = []
    run_start, run_offset = lo_s, _offset_at(zone, lo_s)
    probe = lo_s
    while probe < hi_s - 1:
        nxt = min(probe + 86_400, hi_s - 1)
        if _offset_at(zone, nxt) == run_offset:
            probe = nxt
            continue
        same, changed = probe, nxt  # offset(same) == run_offset != offset(changed)
        while changed - same > 1:
            mid = (same + changed) // 2
            if _offset_at(zone, mid) == run_offset:
                same = mid
            else:
                changed = mid
        runs.append((run_start * SECOND, changed * SECOND, run_offset))
        run_start, run_offset = changed, _offset_at(zone, changed)
        probe = changed
    runs.append((run_start * SECOND, hi, run_offset))
    return runs


def _offset_at(zone: ZoneInfo, second: int) -> int:
    """The zone's UTC offset (microseconds) at a POSIX second."""
    offset = (EPOCH + timedelta(seconds=second)).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset // _ONE_US
