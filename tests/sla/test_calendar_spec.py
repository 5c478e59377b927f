"""Specification of calendar specs (storage form) and of the `/sla hours` text parser."""

import json
from datetime import date

import pytest

from sla.business_time import CalendarError
from sla.calendar import BusinessCalendar

WEEKDAYS_9_TO_5 = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    "cal",
    [
        BusinessCalendar.always("UTC"),
        BusinessCalendar.always("Asia/Kolkata"),
        BusinessCalendar("Europe/Paris", {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}),
        BusinessCalendar("UTC", {"fri": [("22:00", "06:00")]}, holidays=[date(2026, 12, 25)]),
        BusinessCalendar.from_country(
            "America/Los_Angeles", WEEKDAYS_9_TO_5, country="US", subdiv="CA"
        ),
        BusinessCalendar.from_country(
            "Europe/London", WEEKDAYS_9_TO_5, country="GB", holidays=[date(2026, 12, 24)]
        ),
    ],
    ids=repr,
)
def test_spec_survives_a_json_round_trip(cal):
    spec = json.loads(json.dumps(cal.to_spec()))
    again = BusinessCalendar.from_spec(spec)
    assert again == cal
    assert again.to_spec() == cal.to_spec()


def test_spec_shape():
    cal = BusinessCalendar.from_country(
        "America/New_York", {"mon": [("09:00", "17:00")]}, holidays=[date(2026, 12, 24)]
    )
    assert cal.to_spec() == {
        "tz": "America/New_York",
        "hours": {"mon": [["09:00", "17:00"]]},
        "holidays": ["2026-12-24"],
        "country": "US",
        "subdiv": None,
    }
    assert BusinessCalendar.always("UTC").to_spec() == {"tz": "UTC", "always": True}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("Mon-Fri", "must be an object"),
        ({"hours": {"mon": [["09:00", "17:00"]]}}, "'tz'"),
        ({"tz": "Nowhere/City", "hours": {"mon": [["09:00", "17:00"]]}}, "'Nowhere/City'"),
        ({"tz": "UTC", "hours": "Mon-Fri 09:00-17:00"}, "'hours'"),
        ({"tz": "UTC"}, "'hours'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-13-01"]},
         "'holidays': '2026-13-01'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": "2026-12-25"},
         "'holidays'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "country": 1}, "'country'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "country": "XX"}, "'XX'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "timezone": "UTC"}, "'timezone'"),
        ({"tz": "UTC", "always": "yes"}, "'always'"),
        ({"tz": "UTC", "always": True, "country": "US"}, "'country'"),
        ({"tz": "UTC", "hours": {"mon": [["09:00", "17:60"]]}}, "'17:60'"),
    ],
)  # fmt: skip
def test_from_spec_names_the_bad_field(spec, field):
    with pytest.raises(CalendarError, match=field.replace("(", r"\(")):
        BusinessCalendar.from_spec(spec)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon-Fri 09:00-17:00", WEEKDAYS_9_TO_5),
        (
            "Mon-Fri 09:00-17:00, Sat 10:00-14:00",
            {**WEEKDAYS_9_TO_5, "sat": [("10:00", "14:00")]},
        ),
        ("mon-fri 9am-5pm", WEEKDAYS_9_TO_5),
        ("Monday to Friday 9 am to 5 pm", WEEKDAYS_9_TO_5),
        ("weekdays 09:00 - 17:00", WEEKDAYS_9_TO_5),
        ("Mon-Thu 22:00-06:00", {d: [("22:00", "06:00")] for d in ("mon", "tue", "wed", "thu")}),
        ("Fri-Mon 10:00-12:00", {d: [("10:00", "12:00")] for d in ("fri", "sat", "sun", "mon")}),
        ("Mon 09:00-12:00 13:00-17:00", {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}),
        ("Mon 09:00-12:00 and 13:00-17:00", {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}),
        ("Sat 6pm-12am", {"sat": [("18:00", "24:00")]}),
        ("Sun 00:00-24:00", {"sun": [("00:00", "24:00")]}),
        ("daily all day", {d: [("00:00", "24:00")] for d in BusinessCalendar.always().hours}),
        ("24x7", {d: [("00:00", "24:00")] for d in BusinessCalendar.always().hours}),
        ("24/7", {d: [("00:00", "24:00")] for d in BusinessCalendar.always().hours}),
        ("Mon-Fri 12pm-1pm", {d: [("12:00", "13:00")] for d in WEEKDAYS_9_TO_5}),
        (
            "Mon-Fri 09:00-17:00\nSat 10:00-14:00",
            {**WEEKDAYS_9_TO_5, "sat": [("10:00", "14:00")]},
        ),
    ],
)
def test_parse_hours_reads_what_people_type(text, expected):
    assert BusinessCalendar.parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "bad_part"),
    [
        ("", "empty"),
        ("Mnday 09:00-17:00", "'mnday'"),
        ("Mon-Fri", "'mon-fri'"),
        ("Mon-Fri 9-5", "'9'"),
        ("Mon-Fri 09:00-25:00", "'25:00'"),
        ("Mon-Fri 13pm-5pm", "'13pm'"),
        ("Mon-Fri 09:00", "'09:00'"),
        ("Mon-Fri 09:00-09:00", "empty"),
        ("Mon-Fri 24:00-06:00", "starts at 24:00"),
        ("Mon-weekdays 09:00-17:00", "day range"),
    ],
)
def test_parse_hours_names_the_part_it_cannot_read(text, bad_part):
    with pytest.raises(CalendarError, match=bad_part):
        BusinessCalendar.parse_hours(text)


def test_parsed_hours_build_a_calendar_that_describes_itself_the_same_way():
    text = "Mon-Fri 09:00-17:00, Sat 10:00-14:00"
    cal = BusinessCalendar("Europe/Berlin", BusinessCalendar.parse_hours(text))
    assert cal.describe() == f"{text} (Europe/Berlin)"
    assert BusinessCalendar.parse_hours(cal.describe().split(" (")[0]) == cal.hours
