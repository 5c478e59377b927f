"""The portal's trend chart: drawn by matplotlib once per set of numbers, never stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.portal.chart import trend_svg
from commands.portal import WeekPoint

START = datetime(2026, 9, 7, tzinfo=UTC)


def _weeks(first_response: list[float | None]) -> list[WeekPoint]:
    return [WeekPoint(START + timedelta(weeks=n), f"Week {n}",
                      {"first_response": value, "resolution": 90.0})
            for n, value in enumerate(first_response)]


def test_the_same_numbers_are_drawn_once_and_other_numbers_anew():
    first = trend_svg(_weeks([80.0, 90.0, None]), goal_percent=95.0)
    assert first.startswith("<svg") and "Week 2" in first and "Goal 95%" in first
    assert trend_svg(_weeks([80.0, 90.0, None]), goal_percent=95.0) is first
    changed = trend_svg(_weeks([80.0, 40.0, None]), goal_percent=95.0)
    assert changed != first
    assert trend_svg(_weeks([80.0, 90.0, None]), goal_percent=99.0) != first
    # Nothing measured of a metric: no line for it, and no legend entry.
    assert "First response" in first
    assert "First response" not in trend_svg(_weeks([None, None, None]), goal_percent=None)
