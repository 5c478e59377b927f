"""Which instants a `/sla report` period covers."""

from datetime import UTC, datetime, timedelta

import pytest

from sla.periods import Period, PeriodError, parse_period

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["7d", "30d", "90d", "7D", " 14d "])
def test_days_are_rolling_up_to_now(text):
    period = parse_period(text, tz="UTC", now=NOW)
    days = int(text.strip().lower().rstrip("d"))
    assert period.end == NOW
    assert period.start == NOW - timedelta(days=days)
    assert period.label == f"last {days} days"


def test_no_period_means_the_last_30_days():
    assert parse_period(None, tz="UTC", now=NOW) == parse_period("30d", tz="UTC", now=NOW)


def test_month_is_the_local_calendar_month_in_the_workspace_zone():
    period = parse_period("2026-10", tz="Europe/Berlin", now=NOW)
    assert period.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # Oct 1 00:00 CEST
    assert period.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # Nov 1 00:00 CET
    assert period.label == "October 2026"


def test_december_ends_at_the_next_new_year():
    period = parse_period("2026-12", tz="UTC", now=NOW)
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_previous_period_has_the_same_length_and_touches():
    period = parse_period("7d", tz="UTC", now=NOW)
    before = period.previous()
    assert before == Period(NOW - timedelta(days=14), NOW - timedelta(days=7), "before last 7 days")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month must be 01 to 12"),
        ("0d", "1d to 366d"),
        ("last-week", "period must be 7d, 30d, 90d or a month like 2026-10, got 'last-week'"),
        ("2026/10", "period must be"),
    ],
)
def test_bad_periods_say_what_to_write(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text, tz="UTC", now=NOW)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0001-01", "the years 1970 to 9998, got '0001-01'"),
        ("9999-12", "the years 1970 to 9998, got '9999-12'"),
        ("99999999d", "1d to 366d"),
        ("9" * 100_000 + "d", "1d to 366d"),
    ],
)
def test_far_off_periods_are_refused_not_overflowed(text, message):
    for tz in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with pytest.raises(PeriodError, match=message) as caught:
            parse_period(text, tz=tz, now=NOW)
        assert len(str(caught.value)) < 120
