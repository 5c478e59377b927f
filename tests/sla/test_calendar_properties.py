"""Properties of BusinessCalendar, checked with hypothesis and against a minute-by-minute oracle."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from sla.hours import DAYS

FAST = settings(max_examples=200, deadline=None)
ORACLE = settings(max_examples=60, deadline=None)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SPLIT_DAYS = {
    **{d: [("00:00", "03:30"), ("08:00", "12:00"), ("13:00", "24:00")] for d in WEEKDAYS},
    "sun": [("01:00", "04:00")],
}
CALENDARS = {
    "new-york-office": BusinessCalendar.from_country(
        "America/New_York", {d: [("09:00", "17:00")] for d in WEEKDAYS}
    ),
    "london-night-shift": BusinessCalendar(
        "Europe/London",
        {d: [("22:00", "06:00")] for d in ("sun", "mon", "tue", "wed", "thu")},
        holidays=[date(2026, 12, 25), date(2027, 3, 29)],
    ),
    "sydney-split-days": BusinessCalendar.from_country(
        "Australia/Sydney", SPLIT_DAYS, country="AU", subdiv="NSW"
    ),
    "kolkata-office": BusinessCalendar("Asia/Kolkata", {d: [("09:30", "18:00")] for d in WEEKDAYS}),
    "chatham-weekend-nights": BusinessCalendar(
        "Pacific/Chatham", {"sat": [("20:00", "04:00")], "sun": [("01:00", "05:00")]}
    ),
    "new-york-24x7": BusinessCalendar.always("America/New_York"),
}


def utc(moment: datetime) -> datetime:
    """Compare instants in UTC: aware datetimes in a DST fold compare badly (PEP 495)."""
    return moment.astimezone(UTC)


calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
# Instants over 2026-2027 at whole seconds, in UTC or in a zone of their own.
BASE = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.builds(
    lambda seconds, zone: (BASE + timedelta(seconds=seconds)).astimezone(ZoneInfo(zone)),
    st.integers(0, 2 * 365 * 86_400),
    st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
)
durations = st.integers(0, 30 * 8 * 3600).map(lambda s: timedelta(seconds=s))


@FAST
@given(calendars, instants, durations)
def test_elapsed_from_start_to_due_is_the_duration(cal, start, duration):
    assert cal.elapsed(start, cal.due(start, duration)) == duration


@FAST
@given(calendars, instants, durations, durations)
def test_due_is_monotonic_in_the_duration(cal, start, a, b):
    shorter, longer = sorted((a, b))
    assert utc(cal.due(start, shorter)) <= utc(cal.due(start, longer))


@FAST
@given(calendars, instants, durations, durations.filter(bool))
def test_splitting_a_duration_adds_up(cal, start, first, rest):
    assert utc(cal.due(cal.due(start, first), rest)) == utc(cal.due(start, first + rest))


@FAST
@given(calendars, instants, instants, instants)
def test_elapsed_over_consecutive_ranges_adds_up(cal, a, b, c):
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)


@FAST
@given(calendars, instants, durations)
def test_due_is_business_time_or_a_closing_instant(cal, start, duration):
    due = cal.due(start, duration)
    just_before = due - timedelta(microseconds=1)
    assert cal.is_open(due) or (duration and cal.is_open(just_before))
    assert due.tzinfo == cal.zone


@FAST
@given(st.sampled_from(["UTC", "America/New_York", "Pacific/Chatham"]), instants, instants)
def test_always_calendar_equals_wall_clock_time(zone, a, b):
    cal = BusinessCalendar.always(zone)
    assert cal.elapsed(a, b) == utc(b) - utc(a)  # same-zone subtraction ignores DST (PEP 495)
    assert utc(cal.due(min(a, b), abs(utc(b) - utc(a)))) == utc(max(a, b))


pause_lists = st.lists(st.tuples(instants, st.integers(0, 5 * 86_400)), max_size=3).map(
    lambda raw: sorted((p, p + timedelta(seconds=length)) for p, length in raw)
)


@FAST
@given(calendars, instants, durations, pause_lists)
def test_with_pauses_elapsed_from_start_to_due_is_the_duration(cal, start, duration, pauses):
    due = cal.due(start, duration, pauses=pauses)
    assert cal.elapsed(start, due, pauses=pauses) == duration
    assert utc(due) >= utc(cal.due(start, duration))  # pauses can only push a due time later


@FAST
@given(calendars, instants, instants, pause_lists)
def test_pauses_subtract_the_business_time_they_cover(cal, a, b, pauses):
    start, end = sorted((a, b))
    covered = timedelta(0)
    for paused_at, resumed_at in _merged(pauses):
        lo, hi = max(paused_at, start), min(resumed_at, end)
        if lo < hi:
            covered += cal.elapsed(lo, hi)
    assert cal.elapsed(start, end, pauses=pauses) == cal.elapsed(start, end) - covered


@FAST
@given(calendars, instants)
def test_spec_round_trip_keeps_every_answer(cal, moment):
    again = BusinessCalendar.from_spec(cal.to_spec())
    assert again == cal
    assert utc(again.next_open(moment)) == utc(cal.next_open(moment))


# --------------------------------------------------------------------- minute-by-minute oracle

# Windows of three days around each changeover the calendars above meet, plus plain days.
CHANGEOVERS = [
    ("America/New_York", date(2026, 3, 7)), ("America/New_York", date(2026, 10, 31)),
    ("Europe/London", date(2026, 3, 28)), ("Europe/London", date(2026, 10, 24)),
    ("Australia/Sydney", date(2026, 4, 4)), ("Australia/Sydney", date(2026, 10, 3)),
    ("Pacific/Chatham", date(2026, 4, 4)), ("Pacific/Chatham", date(2026, 9, 26)),
    ("Asia/Kolkata", date(2026, 11, 21)), ("Europe/London", date(2026, 12, 24)),
]  # fmt: skip


def _oracle_open(cal: BusinessCalendar, moment: datetime, closed: set[date]) -> bool:
    """Business time by the definition: the local wall clock inside an interval of that day."""
    wall = moment.astimezone(cal.zone)
    if wall.date() in closed:
        return False
    minute = wall.hour * 60 + wall.minute
    weekday = DAYS[wall.weekday()]
    yesterday = DAYS[(wall.weekday() - 1) % 7]
    for start, end in cal.hours.get(weekday, []):
        lo, hi = _minutes(start), _minutes(end)
        if (lo < hi and lo <= minute < hi) or (hi <= lo <= minute):  # overnight: until midnight
            return True
    # the after-midnight part of yesterday's overnight shift
    return any(
        _minutes(end) <= _minutes(start) and minute < _minutes(end)
        for start, end in cal.hours.get(yesterday, [])
    )


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _closed_dates(cal: BusinessCalendar) -> set[date]:
    closed = set(cal.holidays)
    if cal.country:
        closed |= set(holidays.country_holidays(cal.country, subdiv=cal.subdiv, years=[2026]))
    return closed


@ORACLE
@given(
    st.sampled_from(sorted(CALENDARS)),
    st.sampled_from(CHANGEOVERS),
    st.integers(0, 3 * 1440),
    st.integers(0, 3 * 1440),
)
def test_elapsed_matches_counting_minutes_on_the_wall_clock(name, window, a, b):
    cal = CALENDARS[name]
    zone, day = window
    origin = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    start, end = sorted((origin + timedelta(minutes=a), origin + timedelta(minutes=b)))
    closed = _closed_dates(cal)
    minutes = int((end - start).total_seconds() // 60)
    open_minutes = sum(
        _oracle_open(cal, start + timedelta(minutes=m), closed) for m in range(minutes)
    )
    assert cal.elapsed(start, end) == timedelta(minutes=open_minutes)
    assert cal.is_open(start) == _oracle_open(cal, start, closed)


def _merged(pauses):
    merged = []
    for lo, hi in sorted(pauses):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged
