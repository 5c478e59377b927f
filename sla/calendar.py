"""Business calendars: when business time runs, and how much of it lies between two instants.

A calendar has an IANA time zone, weekly working intervals per local weekday (``sla.hours``)
and holiday dates: explicit ones and/or a country's public holidays (``sla.public_holidays``).
``due`` and ``elapsed`` are exact to the microsecond and DST-correct; the arithmetic behind
them, and what counts as business time across DST changes, is ``sla.business_time``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.business_time import (
    EPOCH,
    CalendarError,
    CalendarKey,
    YearTables,
    duration_of,
    from_instant,
    pause_spans,
    to_instant,
)
from sla.hours import (
    ALL_WEEK,
    HOURS_EXAMPLE,
    describe_hours,
    normalise_hours,
    parse_hours_text,
    weekly_intervals,
)
from sla.public_holidays import country_holidays, holidays_known

__all__ = ["BusinessCalendar"]

_SPEC_FIELDS = ("tz", "hours", "holidays", "country", "subdiv", "always")


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
        self._hours = normalise_hours(hours)
        weekly = weekly_intervals(self._hours)
        if not any(weekly):
            raise CalendarError(
                f"the calendar has no working time at all; give hours, {HOURS_EXAMPLE}"
            )
        self._holidays = _holiday_dates(holidays)
        self._country, self._subdiv = _check_country(country, subdiv)
        self._always = always
        self._key = CalendarKey(
            tz,
            weekly,
            frozenset(d.toordinal() for d in self._holidays),
            self._country,
            self._subdiv,
        )
        self._tables = YearTables(self._key)

    @classmethod
    def always(cls, tz: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar: every instant is business time (no holidays)."""
        cal = cls.__new__(cls)
        cal._setup(tz, ALL_WEEK, (), country=None, subdiv=None, always=True)
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
        return parse_hours_text(text)

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
        return f"{describe_hours(self._hours)} ({', '.join(notes)})"

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
        return self._tables.is_open(to_instant(at, "at"))

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if it is business time, else the next instant business time starts."""
        return self._to_datetime(self._tables.next_open(to_instant(at, "at")))

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
        spans = pause_spans(pauses) if pauses else []
        found = self._tables.due(to_instant(start, "start"), duration_of(duration), spans)
        return self._to_datetime(found)

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
        s, e = to_instant(start, "start"), to_instant(end, "end")
        sign = 1
        if e < s:
            s, e, sign = e, s, -1
        total = self._tables.elapsed(s, e)
        for paused_at, resumed_at in pause_spans(pauses):
            lo = max(paused_at, s)
            hi = e if resumed_at is None else min(resumed_at, e)
            if lo < hi:
                total -= self._tables.elapsed(lo, hi)
        return timedelta(microseconds=sign * total)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The business intervals inside ``[start, end)``, clipped, as UTC pairs (for ledgers).

        Their lengths add up to ``elapsed(start, end)`` exactly.
        """
        found = self._tables.open_intervals(to_instant(start, "start"), to_instant(end, "end"))
        return [(from_instant(a), from_instant(b)) for a, b in found]

    def is_holiday(self, day: date) -> bool:
        """True when the local date ``day`` is an explicit or a country holiday."""
        if day in self._holidays:
            return True
        if self._country is None:
            return False
        return day.toordinal() in country_holidays(self._country, self._subdiv, day.year)

    def works_on(self, day: date) -> bool:
        """True when ``day``'s weekday has working hours (holidays aside)."""
        return bool(self._key.weekly[day.weekday()])

    def _to_datetime(self, t: int) -> datetime:
        return (EPOCH + timedelta(microseconds=t)).astimezone(self._zone)


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
    if not holidays_known(country, None):
        raise CalendarError(
            f"no public holidays are known for country {country!r}; use a code like 'US', "
            "'GB' or 'DE'"
        )
    if subdiv is None or holidays_known(country, subdiv):
        return country, subdiv
    if holidays_known(country, subdiv.upper()):  # people type "ca" for "CA"
        return country, subdiv.upper()
    raise CalendarError(f"no public holidays are known for subdivision {subdiv!r} of {country!r}")


def _holiday_dates(values: Iterable[date]) -> frozenset[date]:
    if isinstance(values, str | bytes):
        raise CalendarError("holidays must be a list of dates, not a single string")
    result = set()
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise CalendarError(f"holidays must be dates (whole local days), not {value!r}")
        result.add(value)
    return frozenset(result)
