"""The tightest targets a team would have kept: per priority and metric, the smallest whole
minute of business time that keeps met % at a goal over a period's measured tickets.

Met % follows the report (``sla.breach``'s rule through ``sla.compliance``): metrics that
stopped in the period are met when their elapsed time is within the target; metrics still
open at the period's end (or ``now``) count as breached once past it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sla.breach import PeriodPart, period_part
from sla.history import Measured
from sla.policy import Policy
from sla.targets import Metric, Priority

__all__ = ["Tightest", "tightest_targets"]

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Tightest:
    """The smallest target (whole minutes) of a priority and metric that keeps the goal."""

    metric: Metric
    priority: Priority
    target: timedelta
    current: timedelta | None
    counted: int


def tightest_targets(
    measured: Sequence[Measured], policy: Policy, start: datetime, end: datetime,
    now: datetime, goal_percent: float, current: Policy | None = None,
) -> list[Tightest]:
    """For each priority and metric with metrics stopped in the period: the tightest target
    under which met % (the report's rule) would still reach ``goal_percent``, measured on
    ``policy``'s calendar; ``current`` (default ``policy``) gives the target shown beside."""
    current = current or policy
    t = min(end, now)
    just_before = t - timedelta(microseconds=1)
    closed: dict[tuple[Metric, Priority], list[timedelta]] = {}
    running: dict[tuple[Metric, Priority], list[timedelta]] = {}
    stalled: dict[tuple[Metric, Priority], list[timedelta]] = {}
    for m in measured:
        for s in m.spans:
            key = (s.metric, m.priority)
            worst = max([s.elapsed, *(e for _, e in s.earlier)])
            part = period_part(s.started_at, s.stopped_at, start, end, now)
            if part is PeriodPart.CLOSED:
                closed.setdefault(key, []).append(worst)
            elif part is PeriodPart.OPEN:
                if s.stopped_at is None and s.paused:
                    # No due instant while paused: the report counts elapsed > target now.
                    running.setdefault(key, []).append(worst)
                    continue
                at_t = worst if t == now else policy.calendar.elapsed(s.started_at, t, s.held)
                running.setdefault(key, []).append(at_t)
                # A target equal to the time counted by t is breached by the report's rule
                # (due before t) when the clock had stopped moving before t: closed hours
                # or a pause just before t.
                held = any(a <= just_before < b for a, b in s.held)
                if held or not policy.calendar.is_open(just_before):
                    stalled.setdefault(key, []).append(at_t)
    found = []
    for metric in Metric:
        for priority in Priority:
            key = (metric, priority)
            done = sorted(closed.get(key, ()))
            still = sorted(running.get(key, ()))
            if not done:  # running metrics alone would only say "at least the longest wait"
                continue
            target = _smallest_target(done, still, sorted(stalled.get(key, ())), goal_percent)
            found.append(Tightest(metric, priority, target, current.target(priority, metric),
                                  len(done) + len(still)))
    return found


def _smallest_target(
    done: list[timedelta], still: list[timedelta], stalled: list[timedelta], goal: float
) -> timedelta:
    """Smallest whole-minute T with met / (closed + running breached at T) >= goal: closed
    metrics are met when elapsed <= T, running ones breached when elapsed > T, or == T for
    those whose clock had stopped moving (``stalled``). All lists sorted."""

    def keeps(target: timedelta) -> bool:
        met = bisect_right(done, target)
        breached_running = len(still) - bisect_right(still, target)
        breached_running += bisect_right(stalled, target) - bisect_left(stalled, target)
        total = len(done) + breached_running
        return total == 0 or 100.0 * met >= goal * total

    candidates = {_ceil_minute(v) for v in [*done, *still]} | {_MINUTE}
    candidates |= {_ceil_minute(v + _MINUTE) for v in stalled}
    ordered = sorted(candidates)
    lo, hi = 0, len(ordered) - 1  # the largest candidate keeps everything met
    while lo < hi:
        mid = (lo + hi) // 2
        if keeps(ordered[mid]):
            hi = mid
        else:
            lo = mid + 1
    return ordered[lo]


def _ceil_minute(value: timedelta) -> timedelta:
    return max(_MINUTE, -((-value) // _MINUTE) * _MINUTE)
