"""When a weekly digest is due, and which week it covers, in the subscriber's time zone."""

from datetime import UTC, datetime, time, timedelta

import pytest

from sla.periods import PeriodError, WeeklySlot, digest_weeks, parse_weekly_slot

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_monday_0900_is_0700_utc_in_summer_and_0800_utc_after_berlin_falls_back():
    slot = WeeklySlot(0, time(9, 0), BERLIN)
    # Berlin leaves summer time on Sunday 2026-10-25.
    assert slot.next_after(utc(2026, 10, 15, 12)) == utc(2026, 10, 19, 7)
    assert slot.next_after(utc(2026, 10, 19, 7)) == utc(2026, 10, 26, 8)
    assert slot.next_after(utc(2026, 10, 26, 8)) == utc(2026, 11, 2, 8)


def test_monday_0900_new_york_across_the_november_change():
    slot = WeeklySlot(0, time(9, 0), NEW_YORK)
    # New York leaves daylight time on Sunday 2026-11-01: the gap between slots is 169 hours.
    before = slot.next_after(utc(2026, 10, 22))
    after = slot.next_after(before)
    assert before == utc(2026, 10, 26, 13)  # 09:00 EDT
    assert after == utc(2026, 11, 2, 14)  # 09:00 EST
    assert after - before == timedelta(hours=169)


def test_monday_0900_new_york_across_the_march_change_is_167_hours():
    slot = WeeklySlot(0, time(9, 0), NEW_YORK)
    # Daylight time starts Sunday 2026-03-08.
    assert slot.next_after(utc(2026, 3, 3)) == utc(2026, 3, 9, 13)
    assert slot.on_or_before(utc(2026, 3, 9, 13)) == utc(2026, 3, 9, 13)
    assert slot.on_or_before(utc(2026, 3, 9, 12, 59)) == utc(2026, 3, 2, 14)


def test_slot_at_exactly_now_is_on_or_before_but_not_next():
    slot = WeeklySlot(0, time(9, 0), "UTC")
    monday = utc(2026, 11, 23, 9)
    assert slot.on_or_before(monday) == monday
    assert slot.next_after(monday) == monday + timedelta(days=7)


def test_slot_late_on_sunday_evening_in_sydney_is_sunday_morning_utc():
    slot = WeeklySlot(6, time(20, 30), "Australia/Sydney")  # Sunday 20:30 AEDT = 09:30 UTC
    assert slot.next_after(utc(2026, 11, 20)) == utc(2026, 11, 22, 9, 30)


def test_digest_covers_the_previous_local_week_across_berlin_fall_back():
    slot_start = utc(2026, 10, 26, 8)  # Monday 09:00 CET
    week, week_before = digest_weeks(slot_start, tz=BERLIN)
    assert week.start == utc(2026, 10, 18, 22)  # Monday 19th 00:00 CEST
    assert week.end == utc(2026, 10, 25, 23)  # Monday 26th 00:00 CET
    assert week.end - week.start == timedelta(hours=169)
    assert week_before.start == utc(2026, 10, 11, 22)
    assert week_before.end == week.start
    assert week.label == "Oct 19 to Oct 25"


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        ("mon", "09:00", WeeklySlot(0, time(9, 0), BERLIN)),
        ("Friday", "16:30", WeeklySlot(4, time(16, 30), BERLIN)),
        ("SUN", "7:05", WeeklySlot(6, time(7, 5), BERLIN)),
    ],
)
def test_parse_weekly_slot(day, at, expected):
    assert parse_weekly_slot(day, at, tz=BERLIN) == expected
    assert expected.label.startswith(day[:3].title())


@pytest.mark.parametrize(
    ("day", "at", "message"),
    [
        ("someday", "09:00", "day must be one of mon, tue"),
        ("mon", "25:00", "time must be HH:MM"),
        ("mon", "9am", "time must be HH:MM"),
    ],
)
def test_parse_weekly_slot_names_the_bad_part(day, at, message):
    with pytest.raises(PeriodError, match=message):
        parse_weekly_slot(day, at, tz=BERLIN)


def test_unknown_time_zone_is_a_friendly_error():
    with pytest.raises(PeriodError, match="unknown time zone 'Mars/Olympus'"):
        WeeklySlot(0, time(9, 0), "Mars/Olympus")


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        WeeklySlot().next_after(datetime(2026, 11, 23, 9))


def test_slot_as_crontab_for_the_scheduler():
    assert WeeklySlot(0, time(9, 0), BERLIN).cron == "0 9 * * mon"
    assert WeeklySlot(4, time(16, 30), BERLIN).cron == "30 16 * * fri"


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, "Australia/Sydney"])
def test_scheduler_cron_fires_at_the_same_instants_as_the_slot(tz):
    from bot.scheduler import DigestSlot, digest_trigger, latest_fire_at_or_before

    slot = WeeklySlot(0, time(9, 0), tz)
    trigger = digest_trigger(DigestSlot(1, slot.cron, tz))
    instant = utc(2026, 3, 1)
    while instant < utc(2026, 11, 30):  # spans both DST changes of every zone here
        assert latest_fire_at_or_before(trigger, instant) == slot.on_or_before(instant)
        instant += timedelta(hours=31)
