"""Breach forecast: which waiting tickets will breach in the next business hours unless
answered, judged by the team's recent pace against the queue ahead of each ticket.

The estimate, in words a support lead can check:

1. Pace: the team's answers (RESPONDED events) in this channel over the last ``weeks``
   weeks, per local hour of the week, divided by the business time the calendar had in
   that hour over those weeks: answers per business hour, e.g. "Mon 10:00: 2.5/h".
   An hour of the week with no business time in the look-back uses the overall pace.
   Today counts too: the answers of the last 4 business hours against what that usual pace
   expected scale it (shrunk towards 1 by two answers' worth, kept within 0.25x..4x), so a
   team short-handed today is expected to stay slower.
2. Queue: every ticket waiting for an answer (first or next response running, not paused),
   answered earliest-due first, as a team working down the queue by urgency would.
3. Replay forward from ``now`` through business time, hour by hour: each hour's pace is the
   capacity spent on the queue in due order (a fluid estimate: 2.5 answers in an hour
   answer the next two tickets and half of the third). A ticket's answer is estimated at
   the instant the cumulated capacity reaches its place in the queue.
4. Likely to breach: due before the horizon ends (``hours`` business hours from now) and
   its estimated answer comes after its due instant (or not before the horizon).

It is an estimate, shown as one: it assumes the recent pace holds and that nobody answers
out of due order. ``bench/bench_forecast.py`` backtests it against the naive rule "due
within the horizon" on a seeded history and prints both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sla.calendar import BusinessCalendar

HOUR = timedelta(hours=1)
DEFAULT_WEEKS = 4
_HOURS_A_WEEK = 7 * 24


@dataclass(frozen=True)
class Waiting:
    """A ticket waiting for the team's answer: its key and when that answer is due."""

    key: str
    due_at: datetime


@dataclass(frozen=True)
class Pace:
    """Answers per business hour, per local hour of the week (0 = Monday 00:00)."""

    per_hour: tuple[float, ...]
    overall: float
    answers: int
    weeks: int
    today: float = 1.0  # the last few business hours' pace against the usual one

    def at(self, slot: int) -> float:
        """The pace expected in hour-of-week ``slot`` (the usual one, scaled by ``today``)."""
        return self.per_hour[slot] * self.today


@dataclass(frozen=True)
class Estimate:
    """One waiting ticket with its estimated answer instant (None: not within the horizon)."""

    key: str
    due_at: datetime
    answered_at: datetime | None
    place: int  # 1 = next in the queue

    @property
    def breaches(self) -> bool:
        return self.answered_at is None or self.answered_at > self.due_at


@dataclass(frozen=True)
class Forecast:
    """The tickets likely to breach before ``horizon_end``, and how that was estimated."""

    now: datetime
    horizon_end: datetime
    likely: tuple[Estimate, ...]
    queue: tuple[Estimate, ...]
    pace: Pace
    tz: str = "UTC"  # the calendar's zone, to show the horizon in

    @property
    def method(self) -> str:
        """How the figure was made, in one line."""
        return (
            f"estimate: the team answered {self.pace.answers} time"
            f"{'s' if self.pace.answers != 1 else ''} here in the last {self.pace.weeks} weeks "
            f"({self.pace.overall:.1f} per business hour, by hour of the week"
            + (f", x{self.pace.today:.1f} at today's pace" if abs(self.pace.today - 1) >= 0.05
               else "")
            + "); "
            f"{len(self.queue)} waiting, answered earliest due first"
        )


def team_pace(
    answers: Sequence[datetime], calendar: BusinessCalendar, now: datetime,
    weeks: int = DEFAULT_WEEKS,
) -> Pace:
    """Answers per business hour by local hour of the week, over ``weeks`` weeks to ``now``."""
    start = now - timedelta(weeks=weeks)
    counts = [0] * _HOURS_A_WEEK
    total = 0
    zone = calendar.zone
    for at in answers:
        if start <= at <= now:
            counts[_slot(at, zone)] += 1
            total += 1
    open_hours = [0.0] * _HOURS_A_WEEK
    for a, b in calendar.open_intervals(start, now):
        cursor = a
        while cursor < b:
            edge = min(b, _next_hour(cursor))
            open_hours[_slot(cursor, zone)] += (edge - cursor) / HOUR
            cursor = edge
    business = sum(open_hours)
    overall = total / business if business else 0.0
    per_hour = tuple(
        counts[s] / open_hours[s] if open_hours[s] > 0 else overall for s in range(_HOURS_A_WEEK)
    )
    return Pace(per_hour, overall, total, weeks,
                _today(answers, calendar, now, per_hour, zone))


RECENT = timedelta(hours=4)  # business time that tells how today goes
_PRIOR_ANSWERS = 2.0  # shrinks the adjustment when few answers were expected


def _today(
    answers: Sequence[datetime], calendar: BusinessCalendar, now: datetime,
    per_hour: Sequence[float], zone: ZoneInfo,
) -> float:
    """Answers in the last RECENT of business time against what the usual pace expected,
    shrunk towards 1 (a quiet hour is no verdict) and kept within 0.25..4."""
    window = []
    left = RECENT
    for a, b in reversed(calendar.open_intervals(now - timedelta(days=14), now)):
        take = min(left, b - a)
        window.append((b - take, b))
        left -= take
        if not left:
            break
    if not window:
        return 1.0
    expected = 0.0
    for a, b in window:
        cursor = a
        while cursor < b:
            edge = min(b, _next_hour(cursor))
            expected += per_hour[_slot(cursor, zone)] * ((edge - cursor) / HOUR)
            cursor = edge
    seen = sum(1 for at in answers if any(a <= at < b for a, b in window))
    factor = (seen + _PRIOR_ANSWERS) / (expected + _PRIOR_ANSWERS)
    return min(max(factor, 0.25), 4.0)


def forecast(
    waiting: Sequence[Waiting], pace: Pace, calendar: BusinessCalendar, now: datetime,
    hours: float = 4.0,
) -> Forecast:
    """Which of ``waiting`` will likely breach within ``hours`` business hours of ``now``."""
    horizon_end = calendar.due(now, timedelta(hours=hours)).astimezone(UTC)
    queue = sorted(waiting, key=lambda w: (w.due_at, w.key))
    answered: list[datetime | None] = [None] * len(queue)
    capacity, served = 0.0, 0
    zone = calendar.zone
    for a, b in calendar.open_intervals(now, horizon_end):
        cursor = a
        while cursor < b and served < len(queue):
            edge = min(b, _next_hour(cursor))
            rate = pace.at(_slot(cursor, zone))
            gained = rate * ((edge - cursor) / HOUR)
            # Answers completed inside this slice, placed where the capacity reaches them.
            while served < len(queue) and capacity + gained >= served + 1 and rate > 0:
                needed = (served + 1 - capacity) / rate
                answered[served] = cursor + needed * HOUR
                served += 1
            capacity += gained
            cursor = edge
    estimates = tuple(
        Estimate(w.key, w.due_at, answered[i], i + 1) for i, w in enumerate(queue)
    )
    likely = tuple(e for e in estimates if e.due_at <= horizon_end and e.breaches)
    return Forecast(now, horizon_end, likely, estimates, pace, calendar.tz)


def _slot(at: datetime, zone: ZoneInfo) -> int:
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


def _next_hour(at: datetime) -> datetime:
    """The next whole UTC hour after ``at`` (local hours change with it in whole-hour zones)."""
    return at.replace(minute=0, second=0, microsecond=0) + HOUR


__all__ = ["DEFAULT_WEEKS", "Estimate", "Forecast", "Pace", "Waiting", "forecast", "team_pace"]
