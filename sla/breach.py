"""The one breach / at-risk rule: whether a metric is met, breached, at risk or on track.

- A metric is breached when its business elapsed time exceeds its target before it stops;
  elapsed exactly equal to the target is met.
- Looked at at an instant ``at`` (seen from ``now``, ``at <= now``), a metric that has not
  stopped before ``at`` is *breached now* when its due instant is before ``at``; looked at at
  ``now`` itself, or while paused (no due instant), the breach measured on its clock counts
  too (e.g. an earlier next-response cycle that breached).
- It is *at risk* when it is not breached and either has used ``at_risk_fraction`` of its
  target or more (elapsed as measured) or is due within ``horizon`` after ``at``; otherwise
  it is *on track*.
- A *near miss* is a metric met with less than ``NEAR_MISS_FRACTION`` (10%) of its target
  left when it stopped.
- Over a period ``[start, end)`` seen from ``now``, with ``t = min(end, now)``: a metric that
  stopped in the period is met or breached as measured; one open at ``t`` (started before
  ``t`` and not stopped before it) stands as above at ``t``; any other does not count.
  Compliance counts breached and breached-now metrics as breached (``sla.compliance``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

__all__ = [
    "AT_RISK_FRACTION",
    "AT_RISK_HORIZON",
    "NEAR_MISS_FRACTION",
    "MeasuredMetric",
    "PeriodPart",
    "Standing",
    "is_breached",
    "is_near_miss",
    "metric_standing",
    "period_part",
    "period_standing",
]

AT_RISK_FRACTION = 0.8
AT_RISK_HORIZON = timedelta(hours=1)
NEAR_MISS_FRACTION = 0.1


class MeasuredMetric(Protocol):
    """What the rule reads of a metric: a ``MetricClock`` or a ``MetricOutcome``."""

    @property
    def target(self) -> timedelta: ...

    @property
    def elapsed(self) -> timedelta: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def stopped_at(self) -> datetime | None: ...

    @property
    def due_at(self) -> datetime | None: ...

    @property
    def breached(self) -> bool: ...


class Standing(StrEnum):
    """Where one metric stands by the rule."""

    MET = "met"  # stopped within its target
    BREACHED = "breached"  # stopped past its target
    BREACHED_NOW = "breached now"  # still open, already past its target
    AT_RISK = "at risk"  # still open, close to its target or its due instant
    ON_TRACK = "on track"  # still open, neither

    @property
    def counts_as_breached(self) -> bool:
        """True for what compliance counts as breached: stopped or still open."""
        return self in (Standing.BREACHED, Standing.BREACHED_NOW)

    @property
    def is_open(self) -> bool:
        """True while the metric has not stopped."""
        return self not in (Standing.MET, Standing.BREACHED)


def is_breached(elapsed: timedelta, target: timedelta) -> bool:
    """True when ``elapsed`` business time exceeds ``target`` (exactly the target is met)."""
    return elapsed > target


def is_near_miss(elapsed: timedelta, target: timedelta) -> bool:
    """True when a metric that stopped at ``elapsed`` met ``target`` with less than
    NEAR_MISS_FRACTION of it left."""
    return not is_breached(elapsed, target) and target - elapsed < target * NEAR_MISS_FRACTION


def metric_standing(
    metric: MeasuredMetric,
    now: datetime,
    *,
    at: datetime | None = None,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> Standing:
    """Where ``metric`` stands at ``at`` (default ``now``), seen from ``now``."""
    t = now if at is None else at
    stopped, due = metric.stopped_at, metric.due_at
    if stopped is not None and stopped < t:
        return Standing.BREACHED if metric.breached else Standing.MET
    breached = due is not None and due < t
    if stopped is None and (t == now or due is None):
        breached = breached or metric.breached
    if breached:
        return Standing.BREACHED_NOW
    if metric.elapsed / metric.target >= at_risk_fraction or (
        due is not None and due <= t + horizon
    ):
        return Standing.AT_RISK
    return Standing.ON_TRACK


class PeriodPart(StrEnum):
    """How a metric takes part in a period."""

    CLOSED = "closed"  # it stopped in the period
    OPEN = "open"  # it is open at the period's end, or at now if that comes first


def period_part(
    started_at: datetime, stopped_at: datetime | None, start: datetime, end: datetime,
    now: datetime,
) -> PeriodPart | None:
    """How a metric takes part in ``[start, end)`` seen from ``now``; None: it does not."""
    if stopped_at is not None and start <= stopped_at < end:
        return PeriodPart.CLOSED
    t = min(end, now)
    if started_at < t and (stopped_at is None or stopped_at >= t):
        return PeriodPart.OPEN
    return None


def period_standing(
    metric: MeasuredMetric,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> Standing | None:
    """Where ``metric`` stands in ``[start, end)`` seen from ``now``; None: it does not count."""
    part = period_part(metric.started_at, metric.stopped_at, start, end, now)
    if part is None:
        return None
    if part is PeriodPart.CLOSED:
        return Standing.BREACHED if metric.breached else Standing.MET
    return metric_standing(
        metric, now, at=min(end, now), at_risk_fraction=at_risk_fraction, horizon=horizon
    )
