"""Specification of `/sla hours`: what typed, what kept from the calendar in force."""

from __future__ import annotations

from datetime import date

import pytest

from commands.errors import UsageError
from commands.hours import USAGE, build_calendar, parse_hours
from sla.business_time import CalendarError
from sla.calendar import BusinessCalendar

WEEKDAYS = {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")}


def change(current: BusinessCalendar, text: str) -> BusinessCalendar:
    return build_calendar(current, parse_hours(tuple(text.split()), USAGE))


def test_new_hours_keep_zone_country_and_own_holidays():
    current = BusinessCalendar.from_country(
        "Europe/Berlin", WEEKDAYS, "DE", "BY", holidays=[date(2026, 12, 24)]
    )
    updated = change(current, "Mon-Thu 08:00-18:00")
    assert updated.hours == {d: [("08:00", "18:00")] for d in ("mon", "tue", "wed", "thu")}
    assert (updated.tz, updated.country, updated.subdiv) == ("Europe/Berlin", "DE", "BY")
    assert updated.holidays == frozenset({date(2026, 12, 24)})


def test_zone_alone_keeps_the_hours():
    updated = change(BusinessCalendar("UTC", WEEKDAYS), "tz=Asia/Kolkata")
    assert updated.tz == "Asia/Kolkata" and updated.hours == WEEKDAYS


def test_holidays_none_removes_the_country():
    current = BusinessCalendar.from_country("America/New_York", WEEKDAYS, "US")
    updated = change(current, "holidays=none")
    assert updated.country is None and updated.hours == WEEKDAYS


def test_24x7_keeps_the_zone_and_hours_are_needed_to_leave_it():
    always = change(BusinessCalendar("Europe/London", WEEKDAYS), "24x7")
    assert always.is_always and always.tz == "Europe/London"
    with pytest.raises(UsageError, match="working hours too"):
        change(always, "tz=UTC")
    back = change(always, "Mon-Fri 09:00-17:00")
    assert not back.is_always and back.tz == "Europe/London"


def test_unreadable_hours_are_calendar_errors_naming_the_part():
    with pytest.raises(CalendarError, match="funday"):
        change(BusinessCalendar("UTC", WEEKDAYS), "Funday 09:00-17:00")


def test_24x7_with_holidays_is_refused():
    with pytest.raises(UsageError, match="no holidays"):
        change(BusinessCalendar("UTC", WEEKDAYS), "24x7 holidays=DE")
