"""Breach forecast: the team's pace against the queue, earliest due first."""

from datetime import UTC, datetime, timedelta

from sla.calendar import BusinessCalendar
from sla.forecast import Waiting, forecast, team_pace

ALWAYS = BusinessCalendar.always("UTC")
OFFICE = BusinessCalendar("UTC", {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu",
                                                                       "fri")})
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def every_half_hour(calendar, weeks=4):
    """Two answers in every business hour of the look-back."""
    found = []
    for a, b in calendar.open_intervals(NOW - timedelta(weeks=weeks), NOW):
        t = a
        while t < b:
            found.append(t)
            t += timedelta(minutes=30)
    return found


def test_pace_is_answers_per_business_hour():
    pace = team_pace(every_half_hour(OFFICE), OFFICE, NOW)
    assert round(pace.overall, 6) == 2.0
    assert round(pace.at(0 * 24 + 10), 6) == 2.0  # Monday 10:00
    assert pace.answers == 4 * 5 * 8 * 2


def test_a_team_answering_two_an_hour_leaves_four_of_ten_late():
    pace = team_pace(every_half_hour(ALWAYS), ALWAYS, NOW)
    waiting = [Waiting(f"SLA-{n}", NOW + 3 * H) for n in range(1, 11)]
    result = forecast(waiting, pace, ALWAYS, NOW, hours=4)
    # Answered at 30m, 1h, ... : the sixth at 3h exactly (in time), the last four after.
    assert [e.answered_at - NOW for e in result.queue[:6]] == [H / 2 * n for n in range(1, 7)]
    assert result.likely == result.queue[6:] and len(result.likely) == 4
    assert "answered 1344 times here in the last 4 weeks (2.0 per business hour" in result.method


def test_the_most_urgent_is_answered_first_so_a_late_arrival_can_jump_the_queue():
    pace = team_pace(every_half_hour(ALWAYS), ALWAYS, NOW)
    waiting = [Waiting("SLA-1", NOW + 4 * H), Waiting("SLA-2", NOW + H / 4)]
    result = forecast(waiting, pace, ALWAYS, NOW, hours=4)
    assert [e.key for e in result.queue] == ["SLA-2", "SLA-1"]
    assert [e.key for e in result.likely] == ["SLA-2"]  # due in 15m, answered in 30m


def test_nothing_is_answered_outside_business_hours():
    pace = team_pace(every_half_hour(OFFICE), OFFICE, NOW)
    at_four = NOW.replace(hour=16)
    waiting = [Waiting(f"SLA-{n}", at_four + 2 * H + timedelta(hours=16)) for n in range(1, 5)]
    # Due Tue 10:00 (one business hour after opening): two answered by 17:00, two by Tue 10:00.
    result = forecast(waiting, pace, OFFICE, at_four, hours=2)
    assert result.horizon_end == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert result.likely == ()
    more = [*waiting, Waiting("SLA-9", at_four + 18 * H)]
    assert [e.key for e in forecast(more, pace, OFFICE, at_four, hours=2).likely] == ["SLA-9"]


def test_a_team_with_no_answers_yet_breaches_everything_due_in_the_horizon():
    pace = team_pace([], ALWAYS, NOW)
    waiting = [Waiting("SLA-1", NOW + H), Waiting("SLA-2", NOW + 10 * H)]
    result = forecast(waiting, pace, ALWAYS, NOW, hours=4)
    assert [e.key for e in result.likely] == ["SLA-1"]


def test_a_team_slower_today_than_usual_is_expected_to_stay_slower():
    usual = every_half_hour(ALWAYS)
    quiet_today = [a for a in usual if a < NOW - 4 * H]  # nobody answered for 4 hours
    waiting = [Waiting(f"SLA-{n}", NOW + 3 * H) for n in range(1, 11)]
    steady = forecast(waiting, team_pace(usual, ALWAYS, NOW), ALWAYS, NOW, hours=4)
    slow = forecast(waiting, team_pace(quiet_today, ALWAYS, NOW), ALWAYS, NOW, hours=4)
    assert slow.pace.today == 0.25  # (0 seen + 2) / (8 expected + 2), kept at 0.25 at least
    assert len(slow.likely) > len(steady.likely)
    assert "x0.2 at today's pace" in slow.method
