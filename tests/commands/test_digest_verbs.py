"""Reading `/sla digest subscribe ...` and `/sla report ...` arguments (pure parsing)."""

from datetime import time

import pytest

from commands.digest import SubscribeArgs, parse_subscribe
from commands.errors import UsageError
from commands.report import ReportArgs, parse_report_args


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SubscribeArgs(None, None, None, False)),
        ("me", SubscribeArgs(None, None, None, False)),
        ("<#C0MGR|managers> fri 16:30", SubscribeArgs("C0MGR", 4, time(16, 30), False)),
        ("me Monday 7:05 scope: all", SubscribeArgs(None, 0, time(7, 5), True)),
        ("scope:all", SubscribeArgs(None, None, None, True)),
        ("scope: this channel tue", SubscribeArgs(None, 1, None, False)),
        ("this channel", SubscribeArgs(None, None, None, False)),
        ("all 18:00", SubscribeArgs(None, None, time(18, 0), True)),
    ],
)
def test_parse_subscribe(text, expected):
    assert parse_subscribe(tuple(text.split())) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#managers", "pick #managers from Slack's autocomplete"),
        ("mon 24:00", "time must be HH:MM"),
        ("scope: everything", "scope is `this channel` or `all`"),
        ("weekly", "I did not expect `weekly` here"),
    ],
)
def test_parse_subscribe_names_the_bad_part_and_shows_usage(text, message):
    with pytest.raises(UsageError, match=message) as caught:
        parse_subscribe(tuple(text.split()))
    assert caught.value.usage.startswith("/sla digest subscribe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ReportArgs(None, False, False)),
        ("7d", ReportArgs("7d", False, False)),
        ("csv 2026-10", ReportArgs("2026-10", True, False)),
        ("90D all CSV", ReportArgs("90d", True, True)),
    ],
)
def test_parse_report_args(text, expected):
    assert parse_report_args(tuple(text.split())) == expected


def test_two_periods_are_refused():
    with pytest.raises(UsageError, match="I did not expect `30d` here"):
        parse_report_args(("7d", "30d"))
