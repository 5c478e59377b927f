"""Business calendars: when business time runs, and how much of it lies between two instants.

A calendar has an IANA time zone, weekly working intervals per local weekday and holiday
dates. An instant is business time iff the zone's wall clock then is inside an interval of
that local weekday and the local date is not a holiday. So on a spring-forward day the
skipped hour never happens, and on a fall-back day a repeated working hour counts twice.

How it is computed: for each UTC year the calendar builds (once, lazily, shared between
equal calendars) the sorted list of its business intervals as UTC instants with running
totals. ``due`` and ``elapsed`` then bisect those lists, so their cost grows with the number
of years spanned, never with minutes or days. Instants are integer microseconds since the
Unix epoch, which keeps every answer exact.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = ["DAYS", "BusinessCalendar", "CalendarError"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SECOND = 1_000_000  # instants and durations are integer microseconds
_DAY = 86_400 * _SECOND
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Year tables are built for [Jan 1 Y, Jan 1 Y+1) UTC, so Y+1 must still be a valid year.
_MIN_YEAR, _MAX_YEAR = 2, 9998
_LAST_INSTANT = (datetime(_MAX_YEAR + 1, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
_HOURS_EXAMPLE = "e.g. 'Mon-Fri 09:00-17:00, Sat 10:00-14:00' or '24x7'"
_SPEC_FIELDS = ("tz", "hours", "holidays", "country", "subdiv", "always")


class CalendarError(ValueError):
    """A calendar was described badly or asked something it cannot answer."""


# Weekly intervals as 7 tuples (Mon..Sun) of (start_us, end_us) offsets into the local day.
_Weekly = tuple[tuple[tuple[int, int], ...], ...]


@dataclass(frozen=True, slots=True)
class _Key:
    """Everything that decides which instants are business time (identity of a calendar)."""

    tz: str
    weekly: _Weekly
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


class BusinessCalendar:
    """Weekly business hours in a time zone, minus holidays; answers due/elapsed questions."""

    def __init__(
        self,
        tz: str,
        hours: Mapping[str, Iterable[tuple[str, str]]],
        holidays: Iterable[date] = (),
    ) -> None:
        self._setup(tz, hours, holidays, country=None, subdiv=None, always=False)

    # ----------------------------------------------------------------- construction

    def _setup(
        self,
        tz: str,
        hours: Mapping[str, Iterable[tuple[str, str]]],
        holidays: Iterable[date],
        *,
        country: str | None,
        subdiv: str | None,
        always: bool,
    ) -> None:
        self._zone = _zone(tz)
        self._tz = tz
        self._hours = _normalise_hours(hours)
        weekly = _weekly_intervals(self._hours)
        if not any(weekly):
            raise CalendarError(
                f"the calendar has no working time at all; give hours, {_HOURS_EXAMPLE}"
            )
        self._holidays = _holiday_dates(holidays)
        self._country, self._subdiv = _check_country(country, subdiv)
        self._always = always
        self._key = _Key(
            tz,
            weekly,
            frozenset(d.toordinal() for d in self._holidays),
            self._country,
            self._subdiv,
        )
        self._years: dict[int, _YearTable] = {}

    @classmethod
    def always(cls, tz: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar: every instant is business time (no holidays)."""
        cal = cls.__new__(cls)
        cal._setup(tz, _ALL_WEEK, (), country=None, subdiv=None, always=True)
        return cal

    @classmethod
    def from_country(
        cls,
        tz: str,
        hours: Mapping[str, Iterable[tuple[str, str]]],
        country: str = "US",
        subdiv: str | None = None,
        *,
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """A calendar closed on the public holidays of ``country`` (and ``subdiv``), for any year.

        Holidays come from the ``holidays`` package, loaded lazily per year; ``holidays``
        adds extra dates of your own.
        """
        cal = cls.__new__(cls)
        cal._setup(tz, hours, holidays, country=country, subdiv=subdiv, always=False)
        return cal

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Rebuild a calendar from ``to_spec()`` output; raises CalendarError naming a bad field."""
        if not isinstance(spec, Mapping):
            raise CalendarError(f"a calendar spec must be an object, not {type(spec).__name__}")
        unknown = sorted(set(spec) - set(_SPEC_FIELDS))
        if unknown:
            raise CalendarError(
                f"calendar spec has unknown field {unknown[0]!r}; "
                f"fields are {', '.join(_SPEC_FIELDS)}"
            )
        tz = spec.get("tz")
        if not isinstance(tz, str) or not tz:
            raise CalendarError(
                "calendar spec field 'tz' must be a time zone name like 'Europe/Paris'"
            )
        always = spec.get("always", False)
        if not isinstance(always, bool):
            raise CalendarError("calendar spec field 'always' must be true or false")
        if always:
            extra = [f for f in ("hours", "holidays", "country") if spec.get(f)]
            if extra:
                raise CalendarError(
                    f"calendar spec field {extra[0]!r} cannot be combined with 'always': true"
                )
            return cls.always(tz)
        hours = spec.get("hours")
        if not isinstance(hours, Mapping):
            raise CalendarError(
                'calendar spec field \'hours\' must be an object like {"mon": [["09:00", "17:00"]]}'
            )
        raw_holidays = spec.get("holidays") or []
        if not isinstance(raw_holidays, list | tuple):
            raise CalendarError("calendar spec field 'holidays' must be a list of YYYY-MM-DD dates")
        holiday_dates = []
        for item in raw_holidays:
            try:
                holiday_dates.append(date.fromisoformat(item))
            except (TypeError, ValueError):
                raise CalendarError(
                    f"calendar spec field 'holidays': {item!r} is not a date (YYYY-MM-DD)"
                ) from None
        country, subdiv = spec.get("country"), spec.get("subdiv")
        for field, value in (("country", country), ("subdiv", subdiv)):
            if value is not None and not isinstance(value, str):
                raise CalendarError(f"calendar spec field {field!r} must be text or null")
        cal = cls.__new__(cls)
        cal._setup(tz, hours, holiday_dates, country=country, subdiv=subdiv, always=False)
        return cal

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able description; ``BusinessCalendar.from_spec(cal.to_spec()) == cal``."""
        if self._always:
            return {"tz": self._tz, "always": True}
        return {
            "tz": self._tz,
            "hours": {day: [list(iv) for iv in ivs] for day, ivs in self._hours.items() if ivs},
            "holidays": [d.isoformat() for d in sorted(self._holidays)],
            "country": self._country,
            "subdiv": self._subdiv,
        }

    @staticmethod
    def parse_hours(text: str) -> dict[str, list[tuple[str, str]]]:
        """Read hours as people write them (``"Mon-Fri 09:00-17:00, Sat 10:00-14:00"``, ``"24x7"``).

        Returns the ``hours`` mapping the constructor takes; raises CalendarError naming the
        part it could not read.
        """
        return _parse_hours_text(text)

    # ----------------------------------------------------------------- description

    @property
    def tz(self) -> str:
        """The IANA time zone name."""
        return self._tz

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a ZoneInfo."""
        return self._zone

    @property
    def hours(self) -> dict[str, list[tuple[str, str]]]:
        """Weekly working intervals per weekday, as given (normalised to ``HH:MM``)."""
        return {day: list(ivs) for day, ivs in self._hours.items() if ivs}

    @property
    def holidays(self) -> frozenset[date]:
        """Explicit holiday dates (country holidays are not listed here)."""
        return self._holidays

    @property
    def country(self) -> str | None:
        """Country whose public holidays close the calendar, if any."""
        return self._country

    @property
    def subdiv(self) -> str | None:
        """Subdivision (state, province) for the country holidays, if any."""
        return self._subdiv

    @property
    def is_always(self) -> bool:
        """True for a 24x7 calendar."""
        return self._always

    def describe(self) -> str:
        """A one-line summary, e.g. ``Mon-Fri 09:00-17:00 (America/New_York, US holidays)``."""
        if self._always:
            return f"24x7 ({self._tz})"
        notes = [self._tz]
        if self._country:
            where = f"{self._country}-{self._subdiv}" if self._subdiv else self._country
            notes.append(f"{where} holidays")
        if self._holidays:
            count = len(self._holidays)
            notes.append(f"{count} extra holiday{'s' if count != 1 else ''}")
        return f"{_describe_hours(self._hours)} ({', '.join(notes)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        if self._always:
            return f"BusinessCalendar.always({self._tz!r})"
        return f"<BusinessCalendar {self.describe()}>"

    # ----------------------------------------------------------------- questions

    def is_open(self, at: datetime) -> bool:
        """True if ``at`` is business time."""
        t = _instant(at, "at")
        table = self._table(_year_of(t))
        i = bisect_right(table.starts, t) - 1
        return i >= 0 and t < table.ends[i]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if it is business time, else the next instant business time starts."""
        return self._to_datetime(self._next_open(_instant(at, "at")))

    def due(
        self,
        start: datetime,
        duration: timedelta,
        pauses: Iterable[tuple[datetime, datetime | None]] = (),
    ) -> datetime:
        """The instant when ``duration`` of business time has elapsed since ``start``.

        A due time landing exactly on a closing boundary is that closing instant;
        ``due(start, 0)`` is ``start`` when it is business time, else the next opening.
        Business time inside ``pauses`` (``(paused_at, resumed_at)`` pairs) does not count. A
        pause with ``resumed_at=None`` never ends: if the duration runs into it, there is no
        due time yet and CalendarError is raised.
        """
        cur = _instant(start, "start")
        amount = _duration(duration)
        spans = _pauses(pauses) if pauses else []
        if amount == 0:
            return self._to_datetime(self._first_unpaused_open(cur, spans))
        if cur + amount >= _LAST_INSTANT:  # business time never runs faster than wall time
            raise CalendarError(f"a duration of {duration} runs past the year {_MAX_YEAR}")
        for paused_at, resumed_at in spans:
            if resumed_at is not None and resumed_at <= cur:
                continue
            if paused_at > cur:
                available = self._elapsed(cur, paused_at)
                if amount <= available:
                    return self._to_datetime(self._advance(cur, amount))
                amount -= available
            if resumed_at is None:
                raise CalendarError(
                    "the clock is paused with no resume time (paused at "
                    f"{_to_utc(paused_at).isoformat()}), so it has no due time yet"
                )
            cur = max(cur, resumed_at)
        return self._to_datetime(self._advance(cur, amount))

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        pauses: Iterable[tuple[datetime, datetime | None]] = (),
    ) -> timedelta:
        """Business time between ``start`` and ``end``, not counting ``pauses``.

        An open pause (``resumed_at=None``) stops counting at its start. If ``end`` is before
        ``start`` the result is negative, so consecutive ranges always add up.
        """
        s, e = _instant(start, "start"), _instant(end, "end")
        sign = 1
        if e < s:
            s, e, sign = e, s, -1
        total = self._elapsed(s, e)
        for paused_at, resumed_at in _pauses(pauses):
            lo = max(paused_at, s)
            hi = e if resumed_at is None else min(resumed_at, e)
            if lo < hi:
                total -= self._elapsed(lo, hi)
        return timedelta(microseconds=sign * total)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The business intervals inside ``[start, end)``, clipped, as UTC pairs (for ledgers).

        Their lengths add up to ``elapsed(start, end)`` exactly.
        """
        s, e = _instant(start, "start"), _instant(end, "end")
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
        return [(_to_utc(a), _to_utc(b)) for a, b in found]

    def is_holiday(self, day: date) -> bool:
        """True when the local date ``day`` is an explicit or a country holiday."""
        if day in self._holidays:
            return True
        if self._country is None:
            return False
        return day.toordinal() in _country_holidays(self._country, self._subdiv, day.year)

    def works_on(self, day: date) -> bool:
        """True when ``day``'s weekday has working hours (holidays aside)."""
        return bool(self._key.weekly[day.weekday()])

    # ----------------------------------------------------------------- internals

    def _table(self, year: int) -> _YearTable:
        table = self._years.get(year)
        if table is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise CalendarError(
                    f"the calendar only answers for years {_MIN_YEAR}..{_MAX_YEAR}, not {year}"
                )
            table = self._years[year] = _year_table(self._key, year)
        return table

    def _to_datetime(self, t: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=t)).astimezone(self._zone)

    def _elapsed(self, s: int, e: int) -> int:
        """Business microseconds in [s, e), for s <= e."""
        first, last = _year_of(s), _year_of(e)
        table = self._table(first)
        if first == last:
            return _worked(table, e) - _worked(table, s)
        total = table.total - _worked(table, s)
        for year in range(first + 1, last):
            total += self._table(year).total
        return total + _worked(self._table(last), e)

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

    def _next_open(self, t: int) -> int:
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

    def _first_unpaused_open(self, t: int, spans: list[tuple[int, int | None]]) -> int:
        while True:
            t = self._next_open(t)
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


def _instant(value: datetime, name: str) -> int:
    """An aware datetime as integer microseconds since the epoch (UTC)."""
    if value.__class__ is datetime and value.tzinfo is UTC:  # the common case
        return (value - _EPOCH) // _ONE_US
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}; "
            "attach a zone, e.g. datetime(..., tzinfo=UTC)"
        )
    return (value - _EPOCH) // _ONE_US


def _to_utc(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


# Year starts (UTC microseconds) of the years most instants fall in, for a quick lookup.
_YEAR_LOOKUP_FIRST = 1970
_YEAR_STARTS = [
    (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US for year in range(1970, 2201)
]


def _year_of(t: int) -> int:
    if _YEAR_STARTS[0] <= t < _YEAR_STARTS[-1]:
        return _YEAR_LOOKUP_FIRST + bisect_right(_YEAR_STARTS, t) - 1
    try:
        return _to_utc(t).year
    except OverflowError:
        raise CalendarError(
            f"the calendar only answers for years {_MIN_YEAR}..{_MAX_YEAR}"
        ) from None


def _duration(value: timedelta) -> int:
    if not isinstance(value, timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(value).__name__}")
    if value < timedelta(0):
        raise CalendarError(f"a duration cannot be negative (got {value})")
    return value // _ONE_US


def _pauses(pauses: Iterable[tuple[datetime, datetime | None]]) -> list[tuple[int, int | None]]:
    """Pauses as sorted, merged (start, end-or-None) microsecond spans."""
    spans: list[tuple[int, int | None]] = []
    for pair in pauses:
        try:
            paused_at, resumed_at = pair
        except (TypeError, ValueError):
            raise CalendarError(
                f"each pause must be a (paused_at, resumed_at) pair, not {pair!r}"
            ) from None
        lo = _instant(paused_at, "paused_at")
        hi = None if resumed_at is None else _instant(resumed_at, "resumed_at")
        if hi is not None and hi < lo:
            raise CalendarError(
                f"a pause resumes ({resumed_at.isoformat()}) before it starts "
                f"({paused_at.isoformat()})"
            )
        spans.append((lo, hi))
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[int, int | None]] = []
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
def _year_table(key: _Key, year: int) -> _YearTable:
    """Business intervals of UTC year ``year`` for calendar ``key`` (cached across calendars)."""
    zone = ZoneInfo(key.tz)
    lo = (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
    hi = (datetime(year + 1, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
    closed = key.holidays
    if key.country:
        closed = closed | _country_holidays(key.country, key.subdiv, year)
    starts: list[int] = []
    ends: list[int] = []
    # Within a run of constant UTC offset, wall time = UTC + offset is a plain shift, so each
    # local working interval maps to one UTC interval. A fall-back hour lies in two runs (so it
    # counts twice); a spring-forward hour lies in none (so it never happens).
    for run_lo, run_hi, offset in _offset_runs(zone, lo, hi):
        wall_lo, wall_hi = run_lo + offset, run_hi + offset
        for day in range(wall_lo // _DAY, (wall_hi - 1) // _DAY + 1):
            ordinal = day + _EPOCH_ORDINAL
            if ordinal in closed:
                continue
            midnight = day * _DAY
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
    lo_s, hi_s = lo // _SECOND, hi // _SECOND
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
        runs.append((run_start * _SECOND, changed * _SECOND, run_offset))
        run_start, run_offset = changed, _offset_at(zone, changed)
        probe = changed
    runs.append((run_start * _SECOND, hi, run_offset))
    return runs


def _offset_at(zone: ZoneInfo, second: int) -> int:
    """The zone's UTC offset (microseconds) at a POSIX second."""
    offset = (_EPOCH + timedelta(seconds=second)).astimezone(zone).utcoffset()
    return offset // _ONE_US  # type: ignore[operator]


@lru_cache(maxsize=512)
def _country_holidays(country: str, subdiv: str | None, year: int) -> frozenset[int]:
    """Holiday ordinals for local dates near UTC year ``year`` (observed days may cross years)."""
    found = holidays_lib.country_holidays(country, subdiv=subdiv, years=range(year - 1, year + 2))
    return frozenset(d.toordinal() for d in found)


# --------------------------------------------------------------------- validation


def _zone(tz: str) -> ZoneInfo:
    if not isinstance(tz, str) or not tz.strip():
        raise CalendarError(f"the time zone must be a name like 'America/New_York', not {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"unknown time zone {tz!r}; use an IANA name like 'America/New_York' or 'UTC'"
        ) from None


def _check_country(country: str | None, subdiv: str | None) -> tuple[str | None, str | None]:
    if country is None:
        if subdiv is not None:
            raise CalendarError("a holiday subdivision needs a country")
        return None, None
    if not isinstance(country, str) or not country.strip():
        raise CalendarError(f"the holiday country must be a code like 'US', not {country!r}")
    country = country.strip().upper()
    subdiv = subdiv.strip() if isinstance(subdiv, str) and subdiv.strip() else None
    if not _holidays_known(country, None):
        raise CalendarError(
            f"no public holidays are known for country {country!r}; use a code like 'US', "
            "'GB' or 'DE'"
        )
    if subdiv is None or _holidays_known(country, subdiv):
        return country, subdiv
    if _holidays_known(country, subdiv.upper()):  # people type "ca" for "CA"
        return country, subdiv.upper()
    raise CalendarError(f"no public holidays are known for subdivision {subdiv!r} of {country!r}")


@lru_cache(maxsize=256)
def _holidays_known(country: str, subdiv: str | None) -> bool:
    """Whether the holidays package knows this country/subdivision (cached: it is slow)."""
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv)
    except NotImplementedError:
        return False
    return True


def _holiday_dates(values: Iterable[date]) -> frozenset[date]:
    if isinstance(values, str | bytes):
        raise CalendarError("holidays must be a list of dates, not a single string")
    result = set()
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise CalendarError(f"holidays must be dates (whole local days), not {value!r}")
        result.add(value)
    return frozenset(result)


_TIME = re.compile(r"(\d{1,2}):(\d{2})")


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


def _normalise_hours(
    hours: Mapping[str, Iterable[tuple[str, str]]],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Validate ``hours``; return every weekday's intervals as sorted ``HH:MM`` pairs."""
    if not isinstance(hours, Mapping):
        raise CalendarError(f"hours must map weekdays to intervals, {_HOURS_EXAMPLE}")
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


_FULL_DAY_NAMES = {
    "mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
}  # fmt: skip
_WEEKDAY_KEYS = {**{day: day for day in DAYS}, **{v: k for k, v in _FULL_DAY_NAMES.items()}}


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds(text: str) -> int:
    return int(text[:2]) * 3600 + int(text[3:]) * 60


def _weekly_intervals(hours: Mapping[str, tuple[tuple[str, str], ...]]) -> _Weekly:
    """Per-weekday merged (start, end) microsecond offsets; overnight shifts split at midnight."""
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for index, day in enumerate(DAYS):
        for start_text, end_text in hours[day]:
            start, end = _seconds(start_text) * _SECOND, _seconds(end_text) * _SECOND
            if end > start:
                days[index].append((start, end))
            else:  # overnight: the rest of this day, then the next day until `end`
                days[index].append((start, _DAY))
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


_ALL_WEEK = {day: [("00:00", "24:00")] for day in DAYS}


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


def _parse_hours_text(text: str) -> dict[str, list[tuple[str, str]]]:
    if not isinstance(text, str) or not text.strip():
        raise CalendarError(f"the hours are empty; write {_HOURS_EXAMPLE}")
    dashes = text.strip().lower().replace("\u2013", "-").replace("\u2014", "-")
    cleaned = re.sub(r"\s+", " ", dashes.replace("\n", ","))  # one clause per line is fine too
    cleaned = cleaned.replace("every day", "everyday").replace("all day", "allday")
    if cleaned in ("24x7", "24/7", "always"):
        return {day: [("00:00", "24:00")] for day in DAYS}
    hours: dict[str, list[tuple[str, str]]] = {}
    for clause in filter(None, (part.strip() for part in re.split(r"[,;]", cleaned))):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise CalendarError(f"cannot read {clause!r}; write days then times, {_HOURS_EXAMPLE}")
        days = _day_range(match["first"], match["last"], clause)
        for interval in _time_ranges(match["times"], clause):
            for day in days:
                hours.setdefault(DAYS[day], []).append(interval)
    if not hours:
        raise CalendarError(f"no hours found in {text.strip()!r}; write {_HOURS_EXAMPLE}")
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


def _describe_hours(hours: Mapping[str, tuple[tuple[str, str], ...]]) -> str:
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
