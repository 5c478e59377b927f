"""Specification of BusinessCalendar.due / elapsed / is_open / next_open."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from sla.business_time import CalendarError
from sla.calendar import BusinessCalendar

NY = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str, zone: str = "America/New_York") -> datetime:
    """'2026-11-20 16:00' as an aware datetime in ``zone``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def office(**kwargs) -> BusinessCalendar:
    return BusinessCalendar("America/New_York", WEEKDAYS_9_TO_5, **kwargs)


# 2026-11-20 is a Friday; 2026-11-26 is Thanksgiving (a US holiday); 2027-01-01 is a Friday.
@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2026-11-20 10:00", hours(1), "2026-11-20 11:00"),
        ("2026-11-20 16:00", hours(2), "2026-11-23 10:00"),  # skips the weekend
        ("2026-11-20 16:00", hours(1), "2026-11-20 17:00"),  # lands on closing: that instant
        ("2026-11-20 17:00", hours(1), "2026-11-23 10:00"),  # closing instant is not open
        ("2026-11-21 12:00", hours(1), "2026-11-23 10:00"),  # Saturday start waits for Monday
        ("2026-11-23 07:30", timedelta(minutes=30), "2026-11-23 09:30"),  # counts from opening
        ("2026-11-23 09:00", hours(40), "2026-11-27 17:00"),  # a full working week
        ("2026-11-23 09:00:00.250000", timedelta(seconds=1), "2026-11-23 09:00:01.250000"),
        ("2026-11-20 10:00", timedelta(0), "2026-11-20 10:00"),  # zero: start if open
        ("2026-11-20 18:00", timedelta(0), "2026-11-23 09:00"),  # zero: else next opening
    ],
)
def test_due_on_a_weekday_office_calendar(start, duration, expected):
    assert office().due(at(start), duration) == at(expected)


def test_due_skips_weekend_and_holiday():
    cal = office(holidays=[date(2026, 11, 23)])
    assert cal.due(at("2026-11-20 16:00"), hours(2)) == at("2026-11-24 10:00")


def test_due_skips_country_holidays_for_any_year():
    cal = BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5, country="US")
    assert cal.due(at("2026-11-25 16:00"), hours(2)) == at("2026-11-27 10:00")  # Thanksgiving
    assert cal.due(at("2026-12-31 16:00"), hours(2)) == at("2027-01-04 10:00")  # New Year
    assert cal.due(at("2041-07-03 16:00"), hours(2)) == at("2041-07-05 10:00")  # far future


def test_due_returns_the_calendar_zone_whatever_the_input_zone():
    due = office().due(datetime(2026, 11, 20, 15, 0, tzinfo=UTC), hours(1))
    assert due.tzinfo == NY
    assert due == at("2026-11-20 11:00")


def test_several_intervals_a_day_leave_the_lunch_break_out():
    lunch = {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}
    cal = BusinessCalendar("Europe/Paris", lunch)
    start = at("2026-11-23 11:00", "Europe/Paris")
    assert cal.due(start, hours(2)) == at("2026-11-23 14:00", "Europe/Paris")
    assert cal.elapsed(start, at("2026-11-23 18:00", "Europe/Paris")) == hours(5)
    assert not cal.is_open(at("2026-11-23 12:30", "Europe/Paris"))


def test_overlapping_intervals_count_once():
    cal = BusinessCalendar("UTC", {"mon": [("09:00", "13:00"), ("11:00", "17:00")]})
    assert cal.elapsed(at("2026-11-23 00:00", "UTC"), at("2026-11-24 00:00", "UTC")) == hours(8)


def test_an_interval_may_end_at_24_00():
    cal = BusinessCalendar("UTC", {"fri": [("18:00", "24:00")], "sat": [("00:00", "02:00")]})
    assert cal.due(at("2026-11-20 23:00", "UTC"), hours(2)) == at("2026-11-21 01:00", "UTC")
    assert cal.is_open(at("2026-11-20 23:59:59", "UTC"))


def test_overnight_shift_runs_past_midnight_into_the_next_day():
    cal = BusinessCalendar(
        "UTC", {day: [("22:00", "06:00")] for day in ("mon", "tue", "wed", "thu")}
    )
    thursday_night = at("2026-11-26 23:00", "UTC")
    assert cal.due(thursday_night, hours(4)) == at("2026-11-27 03:00", "UTC")  # Friday 03:00
    assert cal.due(at("2026-11-27 05:00", "UTC"), hours(2)) == at("2026-11-30 23:00", "UTC")
    assert not cal.is_open(at("2026-11-23 03:00", "UTC"))  # Sunday had no shift into Monday


def test_a_holiday_closes_the_after_midnight_part_of_an_overnight_shift():
    cal = BusinessCalendar("UTC", {"mon": [("22:00", "06:00")]}, holidays=[date(2026, 11, 24)])
    monday = at("2026-11-23 00:00", "UTC")
    assert cal.elapsed(monday, monday + timedelta(days=3)) == hours(2)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-20 09:00", True),  # opening instant is business time
        ("2026-11-20 16:59:59.999999", True),
        ("2026-11-20 17:00", False),  # intervals are half-open
        ("2026-11-21 10:00", False),  # Saturday
        ("2026-11-26 10:00", False),  # Thanksgiving
    ],
)
def test_is_open_uses_half_open_intervals_and_holidays(moment, is_open):
    cal = BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5)
    assert cal.is_open(at(moment)) is is_open


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-20 10:15", "2026-11-20 10:15"),
        ("2026-11-20 17:00", "2026-11-23 09:00"),
        ("2026-11-25 20:00", "2026-11-27 09:00"),  # over Thanksgiving
        ("2026-12-31 17:30", "2027-01-04 09:00"),  # over the new year and its holiday
    ],
)
def test_next_open(moment, expected):
    cal = BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5)
    assert cal.next_open(at(moment)) == at(expected)


def test_elapsed_counts_only_business_time():
    cal = BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5)
    # Fri 1h + Mon-Wed 24h + Thanksgiving 0h + Fri 8h + Mon 1h
    assert cal.elapsed(at("2026-11-20 16:00"), at("2026-11-30 10:00")) == hours(34)


def test_elapsed_backwards_is_negative():
    cal = office()
    assert cal.elapsed(at("2026-11-20 12:00"), at("2026-11-20 10:00")) == -hours(2)


def test_elapsed_over_months_counts_whole_business_days():
    cal = BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5)
    start, end = date(2026, 1, 1), date(2027, 3, 1)
    us = holidays.country_holidays("US", years=[2026, 2027])
    days = sum(
        1
        for n in range((end - start).days)
        if (d := start + timedelta(days=n)).weekday() < 5 and d not in us
    )
    assert cal.elapsed(at("2026-01-01 00:00"), at("2027-03-01 00:00")) == hours(8 * days)
    assert cal.due(at("2026-01-01 00:00"), hours(8 * days)) == at("2027-02-26 17:00")


# --------------------------------------------------------------------- time zones and DST


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # A 00:00-06:00 working night on the changeover day: the skipped hour never happens,
        # the repeated hour counts twice.
        ("America/New_York", "2026-03-08", hours(5)),
        ("America/New_York", "2026-11-01", hours(7)),
        ("Europe/London", "2026-03-29", hours(5)),
        ("Europe/London", "2026-10-25", hours(7)),
        ("Australia/Sydney", "2026-10-04", hours(5)),
        ("Australia/Sydney", "2026-04-05", hours(7)),
        ("Pacific/Chatham", "2026-09-27", hours(5)),  # 02:45 -> 03:45
        ("Pacific/Chatham", "2026-04-05", hours(7)),  # 03:45 -> 02:45
        ("Asia/Kolkata", "2026-03-08", hours(6)),  # no DST at all
    ],
)
def test_dst_changeover_counts_wall_clock_hours(zone, day, expected):
    cal = BusinessCalendar(zone, {"sun": [("00:00", "06:00")]})
    midnight = at(f"{day} 00:00", zone)
    assert cal.elapsed(midnight, midnight + timedelta(days=1)) == expected


def test_repeated_hour_counts_twice_when_due_is_computed():
    cal = BusinessCalendar("America/New_York", {"sun": [("01:00", "02:00")]})
    first = datetime(2026, 11, 1, 1, 0, tzinfo=NY)  # fold=0: 05:00 UTC
    due = cal.due(first, timedelta(minutes=90))
    assert due.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert due.fold == 1  # 01:30 the second time round


def test_office_hours_keep_their_wall_clock_across_dst():
    cal = office()
    friday = at("2026-03-06 09:00")  # EST
    monday = at("2026-03-09 17:00")  # EDT
    assert cal.elapsed(friday, monday) == hours(16)
    assert cal.due(at("2026-03-06 16:00"), hours(2)) == at("2026-03-09 10:00")


def test_always_calendar_counts_real_time_across_dst():
    cal = BusinessCalendar.always("America/New_York")
    midnight = at("2026-03-08 00:00")
    assert cal.elapsed(midnight, at("2026-03-09 00:00")) == hours(23)
    assert cal.due(midnight, hours(3)) == at("2026-03-08 04:00")  # 02:00-03:00 never happened


@pytest.mark.parametrize(
    ("zone", "start", "utc_due"),
    [
        ("Asia/Kolkata", "2026-11-23 09:30", "2026-11-23 12:30"),  # +05:30
        ("Pacific/Chatham", "2026-11-23 09:30", "2026-11-23 04:15"),  # +13:45 in summer
        ("Asia/Kathmandu", "2026-11-23 09:30", "2026-11-23 12:15"),  # +05:45
    ],
)
def test_odd_offsets_are_exact(zone, start, utc_due):
    cal = BusinessCalendar(zone, {"mon": [("09:30", "18:00")]})
    due = cal.due(at(start, zone), timedelta(hours=8, minutes=30))
    assert due.astimezone(UTC) == at(utc_due, "UTC")
    assert due.tzinfo == ZoneInfo(zone)


# --------------------------------------------------------------------- pauses


def test_due_does_not_count_business_time_inside_a_pause():
    cal = office()
    pause = (at("2026-11-23 09:00"), at("2026-11-24 09:00"))  # all of Monday
    assert cal.due(at("2026-11-20 16:00"), hours(2), pauses=[pause]) == at("2026-11-24 10:00")


def test_a_pause_may_begin_before_start():
    cal = office()
    pause = (at("2026-11-19 12:00"), at("2026-11-20 13:00"))
    assert cal.due(at("2026-11-20 10:00"), hours(1), pauses=[pause]) == at("2026-11-20 14:00")
    assert cal.elapsed(at("2026-11-20 10:00"), at("2026-11-20 15:00"), pauses=[pause]) == hours(2)


def test_overlapping_pauses_are_not_subtracted_twice():
    cal = office()
    pauses = [
        (at("2026-11-20 10:00"), at("2026-11-20 12:00")),
        (at("2026-11-20 11:00"), at("2026-11-20 13:00")),
    ]
    day = (at("2026-11-20 09:00"), at("2026-11-20 17:00"))
    assert cal.elapsed(*day, pauses=pauses) == hours(5)
    assert cal.due(day[0], hours(5), pauses=pauses) == day[1]


def test_open_pause_stops_elapsed_at_its_start():
    cal = office()
    pause = (at("2026-11-20 11:00"), None)
    assert cal.elapsed(at("2026-11-20 09:00"), at("2026-11-30 09:00"), pauses=[pause]) == hours(2)


def test_open_pause_has_no_due_time_once_the_duration_runs_into_it():
    cal = office()
    pause = (at("2026-11-20 11:00"), None)
    assert cal.due(at("2026-11-20 09:00"), hours(1), pauses=[pause]) == at("2026-11-20 10:00")
    with pytest.raises(CalendarError, match="paused with no resume"):
        cal.due(at("2026-11-20 09:00"), hours(3), pauses=[pause])


def test_due_zero_skips_a_pause_in_progress():
    cal = office()
    pause = (at("2026-11-20 08:00"), at("2026-11-20 10:00"))
    assert cal.due(at("2026-11-20 09:00"), timedelta(0), pauses=[pause]) == at("2026-11-20 10:00")


def test_a_pause_that_resumes_before_it_starts_is_rejected():
    with pytest.raises(CalendarError, match="resumes"):
        office().elapsed(
            at("2026-11-20 09:00"),
            at("2026-11-20 17:00"),
            pauses=[(at("2026-11-20 12:00"), at("2026-11-20 11:00"))],
        )


# --------------------------------------------------------------------- bad input


def test_naive_datetimes_are_rejected_with_a_clear_message():
    cal = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due(datetime(2026, 11, 20, 10, 0), hours(1))
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        cal.elapsed(at("2026-11-20 10:00"), datetime(2026, 11, 20, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_open(datetime(2026, 11, 20, 10, 0))


def test_negative_duration_is_rejected():
    with pytest.raises(CalendarError, match="negative"):
        office().due(at("2026-11-20 10:00"), -hours(1))


def test_a_due_time_beyond_the_supported_years_is_an_error_not_a_hang():
    with pytest.raises(CalendarError, match="9998"):
        office().due(at("2026-11-20 10:00"), timedelta(days=3_000_000))


@pytest.mark.parametrize(
    ("tz", "hours_spec", "holidays", "message"),
    [
        ("America/New_York", {}, (), "no working time"),
        ("America/New_York", {"mon": []}, (), "no working time"),
        ("Mars/Olympus", WEEKDAYS_9_TO_5, (), "unknown time zone 'Mars/Olympus'"),
        ("UTC", {"mnday": [("09:00", "17:00")]}, (), "unknown weekday 'mnday'"),
        ("UTC", {"mon": [("09:00", "25:00")]}, (), "'25:00'"),
        ("UTC", {"mon": [("9", "17:00")]}, (), "'9' is not a time"),
        ("UTC", {"mon": [("24:00", "06:00")]}, (), "'24:00' is not a valid time for a start"),
        ("UTC", {"mon": [("09:00", "09:00")]}, (), "empty"),
        ("UTC", {"mon": [("09:00",)]}, (), "not a [start, end] pair"),
        ("UTC", {"mon": "09:00-17:00"}, (), "list of [start, end] pairs"),
        ("UTC", WEEKDAYS_9_TO_5, [datetime(2026, 12, 25, tzinfo=UTC)], "holidays must be dates"),
    ],
)
def test_bad_calendars_are_rejected_at_construction(tz, hours_spec, holidays, message):
    with pytest.raises(CalendarError, match=message.replace("[", r"\[").replace("]", r"\]")):
        BusinessCalendar(tz, hours_spec, holidays)


def test_unknown_holiday_country_is_rejected():
    with pytest.raises(CalendarError, match="country 'XX'"):
        BusinessCalendar.from_country("UTC", WEEKDAYS_9_TO_5, country="XX")
    with pytest.raises(CalendarError, match="subdivision 'ZZ'"):
        BusinessCalendar.from_country("UTC", WEEKDAYS_9_TO_5, country="US", subdiv="ZZ")


def test_full_weekday_names_are_accepted():
    cal = BusinessCalendar("UTC", {"Monday": [("09:00", "17:00")]})
    assert cal.hours == {"mon": [("09:00", "17:00")]}


def test_subdivision_holidays_close_the_calendar():
    # Cesar Chavez Day (March 31) is a California state holiday, not a federal one.
    ca = BusinessCalendar.from_country("America/Los_Angeles", WEEKDAYS_9_TO_5, "US", "CA")
    us = BusinessCalendar.from_country("America/Los_Angeles", WEEKDAYS_9_TO_5, "US")
    noon = at("2026-03-31 12:00", "America/Los_Angeles")
    assert not ca.is_open(noon)
    assert us.is_open(noon)


def test_equal_calendars_compare_and_hash_equal():
    a = BusinessCalendar.always("UTC")
    b = BusinessCalendar(
        "UTC",
        {day: [("00:00", "24:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    assert a == b
    assert hash(a) == hash(b)
    assert office() != BusinessCalendar.from_country("America/New_York", WEEKDAYS_9_TO_5)


def test_describe_reads_like_the_hours_people_type():
    cal = BusinessCalendar.from_country(
        "America/New_York",
        {**WEEKDAYS_9_TO_5, "sat": [("10:00", "14:00")]},
        holidays=[date(2026, 12, 24)],
    )
    assert cal.describe() == (
        "Mon-Fri 09:00-17:00, Sat 10:00-14:00 (America/New_York, US holidays, 1 extra holiday)"
    )
    assert BusinessCalendar.always("UTC").describe() == "24x7 (UTC)"


@pytest.mark.parametrize(
    ("weekday", "day", "expected"),
    [
        ("sat", "2026-04-04", hours(25)),  # 24:00 falls back to 23:00: 23:00-24:00 twice
        ("sun", "2026-09-06", hours(23)),  # 00:00 springs to 01:00: the day starts late
    ],
)
def test_changeovers_at_midnight_keep_local_dates_right(weekday, day, expected):
    zone = "America/Santiago"
    cal = BusinessCalendar(zone, {weekday: [("00:00", "24:00")]})
    midnight = at(f"{day} 12:00", zone) - timedelta(days=1)
    assert cal.elapsed(midnight, midnight + timedelta(days=3)) == expected


def test_subdivision_codes_are_not_case_sensitive():
    cal = BusinessCalendar.from_country("America/Los_Angeles", WEEKDAYS_9_TO_5, "us", "ca")
    assert (cal.country, cal.subdiv) == ("US", "CA")
