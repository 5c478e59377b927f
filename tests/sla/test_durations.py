"""Specification of human durations: parse_duration and format_duration."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.durations import DurationError, format_business_duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(hours=48)),  # a day is 24 hours
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        (".5h", timedelta(minutes=30)),
        ("1h 30m", timedelta(minutes=90)),
        ("2d 4h", timedelta(days=2, hours=4)),
        ("  45 M ", timedelta(minutes=45)),
        ("2 hours 15 minutes", timedelta(hours=2, minutes=15)),
        ("1 day", timedelta(days=1)),
        ("90min", timedelta(minutes=90)),
        ("0m", timedelta(0)),
        ("0.1s", timedelta(milliseconds=100)),
        ("1,5h", timedelta(minutes=90)),  # decimal comma
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "bad_part"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("90", "'90' in '90' has no unit"),
        ("4x", "unknown unit 'x'"),
        ("1h30", "'30' in '1h30' has no unit"),
        ("soon", "cannot read 'soon'"),
        ("1h 1h", "unit 'h' appears twice"),
        ("-15m", "cannot be negative"),
        ("1h30m?", "cannot read '\\?' in '1h30m\\?'"),
        ("1w", "unknown unit 'w'"),
    ],
)
def test_parse_duration_names_the_bad_part(text, bad_part):
    with pytest.raises(DurationError, match=bad_part):
        parse_duration(text)


def test_duration_error_is_a_value_error():
    with pytest.raises(ValueError, match="no unit"):
        parse_duration("15")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(minutes=45), "45m"),
        (timedelta(minutes=90), "1h 30m"),
        (timedelta(days=2, hours=4), "2d 4h"),
        (timedelta(hours=4), "4h"),
        (timedelta(seconds=30), "30s"),
        (timedelta(hours=1, seconds=5), "1h 5s"),
        (timedelta(minutes=-15), "-15m"),
        (timedelta(0), "0s"),
        (timedelta(milliseconds=999), "0s"),
        (timedelta(days=400), "400d"),
    ],
)
def test_format_duration(duration, text):
    assert format_duration(duration) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9).map(lambda s: timedelta(seconds=s)))
def test_format_then_parse_gives_back_the_duration(duration):
    assert parse_duration(format_duration(duration)) == duration
    assert format_duration(-duration) == ("-" if duration else "") + format_duration(duration)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=24), "24h"),  # a "1d" business target: three 8-hour days, not one
        (timedelta(hours=40), "40h"),
        (timedelta(days=2, hours=4, minutes=30), "52h 30m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(hours=-26), "-26h"),
        (timedelta(0), "0s"),
    ],
)
def test_business_durations_never_show_days(duration, text):
    assert format_business_duration(duration) == text
    assert parse_duration(text.lstrip("-")) == abs(duration)
