"""Report periods and weekly digest slots: which instants `30d`, `2026-10` or "Monday 09:00
in Berlin" mean, in the reader's time zone and DST-correct. `now` is always an argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CHART_DAYS",
    "DEFAULT_PERIOD",
    "WEEKDAYS",
    "Period",
    "PeriodError",
    "WeeklySlot",
    "chart_days",
    "digest_weeks",
    "month_period",
    "parse_period",
    "parse_weekly_slot",
]

DEFAULT_PERIOD = "30d"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SLOT_WEEKDAY = 0
DEFAULT_SLOT_TIME = time(9, 0)
MAX_PERIOD_DAYS = 366
FIRST_YEAR, LAST_YEAR = 1970, 9998
CHART_DAYS = 56  # eight weeks of daily compliance in the digest chart
# How much of a bad period text an error quotes back (people paste whole pages).
_QUOTED_CHARS = 40

_DAYS_RE = re.compile(r"^(\d+)d$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class PeriodError(ValueError):
    """A period or a digest slot is wrong; the message says what and how to write it."""


@dataclass(frozen=True)
class Period:
    """A reporting period [start, end) in UTC with a label people read."""

    start: datetime
    end: datetime
    label: str

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        length = self.end - self.start
        return Period(self.start - length, self.start, f"before {self.label}")


def parse_period(text: str | None, *, tz: str, now: datetime) -> Period:
    """Parse `7d`/`30d`/`90d` (rolling days up to now) or `YYYY-MM` (a month in `tz`)."""
    _require_aware(now, "now")
    spec = (text or DEFAULT_PERIOD).strip().lower()
    days = _DAYS_RE.match(spec)
    if days:
        # Checked by length first: int() of a pasted page of digits is slow, then refused.
        digits = days.group(1)
        count = int(digits) if len(digits) <= len(str(MAX_PERIOD_DAYS)) else 0
        if not 1 <= count <= MAX_PERIOD_DAYS:
            raise PeriodError(
                f"a period in days must be 1d to {MAX_PERIOD_DAYS}d, got '{_quoted(spec)}'")
        end = now.astimezone(UTC)
        return Period(end - timedelta(days=count), end, f"last {count} days")
    month = _MONTH_RE.match(spec)
    if month:
        return month_period(int(month.group(1)), int(month.group(2)), tz=tz)
    raise PeriodError(
        f"period must be 7d, 30d, 90d or a month like 2026-10, got '{_quoted(text or '')}'")


def month_period(year: int, month: int, *, tz: str) -> Period:
    """The calendar month in the workspace time zone, as UTC instants."""
    if not 1 <= month <= 12:
        raise PeriodError(f"month must be 01 to 12, got '{year}-{month:02d}'")
    # Far-off years overflow when moved to UTC (0001-01 east of Greenwich, 9999-12's end).
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(
            f"the month must be in the years {FIRST_YEAR} to {LAST_YEAR}, got "
            f"'{year:04d}-{month:02d}'")
    zone = ZoneInfo(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC), start.strftime("%B %Y"))


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly local wall-clock slot such as Monday 09:00 in Europe/Berlin."""

    weekday: int = DEFAULT_SLOT_WEEKDAY
    at: time = DEFAULT_SLOT_TIME
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise PeriodError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        try:
            ZoneInfo(self.tz)
        except (ValueError, KeyError) as error:
            raise PeriodError(f"unknown time zone '{self.tz}'") from error

    @property
    def label(self) -> str:
        """`Mon 09:00 Europe/Berlin`."""
        return f"{WEEKDAYS[self.weekday].title()} {self.at:%H:%M} {self.tz}"

    @property
    def cron(self) -> str:
        """Five-field crontab for the scheduler, e.g. `0 9 * * mon` (read in `tz`)."""
        return f"{self.at.minute} {self.at.hour} * * {WEEKDAYS[self.weekday]}"

    def on_or_before(self, instant: datetime) -> datetime:
        """The latest slot instant (UTC) at or before `instant`."""
        _require_aware(instant, "instant")
        zone = ZoneInfo(self.tz)
        local_day = instant.astimezone(zone).date()
        day = local_day - timedelta(days=(local_day.weekday() - self.weekday) % 7)
        candidate = self._instant_on(day)
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall clock, not instant.
        if candidate > instant.astimezone(UTC):
            candidate = self._instant_on(day - timedelta(days=7))
        return candidate

    def next_after(self, instant: datetime) -> datetime:
        """The first slot instant (UTC) strictly after `instant`."""
        previous = self.on_or_before(instant)
        local_day = previous.astimezone(ZoneInfo(self.tz)).date()
        return self._instant_on(local_day + timedelta(days=7))

    def _instant_on(self, day: date) -> datetime:
        # A wall time that does not exist (spring forward) resolves with the offset before the
        # change, i.e. one hour later on the new clock; a repeated one takes its first occurrence.
        return datetime.combine(day, self.at, tzinfo=ZoneInfo(self.tz)).astimezone(UTC)


def parse_weekly_slot(day: str, at: str, *, tz: str) -> WeeklySlot:
    """Parse `mon` and `09:00` into a WeeklySlot in `tz`."""
    key = day.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise PeriodError(f"day must be one of {', '.join(WEEKDAYS)}, got '{day}'")
    match = _TIME_RE.match(at.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise PeriodError(f"time must be HH:MM between 00:00 and 23:59, got '{at}'")
    return WeeklySlot(WEEKDAYS.index(key), time(int(match.group(1)), int(match.group(2))), tz)


def digest_weeks(slot_start: datetime, *, tz: str) -> tuple[Period, Period]:
    """Last week and the week before it: the 7 local days ending at midnight of the slot's day."""
    _require_aware(slot_start, "slot_start")
    zone = ZoneInfo(tz)
    end_day = slot_start.astimezone(zone).date()
    bounds = [_local_midnight(end_day - timedelta(days=7 * n), zone) for n in (2, 1, 0)]
    this_week = Period(bounds[1], bounds[2], _week_label(end_day))
    week_before = Period(bounds[0], bounds[1], _week_label(end_day - timedelta(days=7)))
    return this_week, week_before


def chart_days(period_end: datetime, *, tz: str, count: int = CHART_DAYS) -> list[Period]:
    """The `count` local days ending at `period_end`'s local date, oldest first."""
    zone = ZoneInfo(tz)
    last = period_end.astimezone(zone).date()
    days = []
    for back in range(count, 0, -1):
        day = last - timedelta(days=back)
        days.append(
            Period(_local_midnight(day, zone), _local_midnight(day + timedelta(days=1), zone),
                   day.isoformat())
        )
    return days


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def _week_label(end_day: date) -> str:
    first, last = end_day - timedelta(days=7), end_day - timedelta(days=1)
    return f"{first:%b} {first.day} to {last:%b} {last.day}"


def _quoted(text: str) -> str:
    return text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 1] + "…"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
