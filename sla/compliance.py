"""Compliance maths: met %, breaches, risk and percentiles over metric outcomes for a period.

Which metrics of a period ``[start, end)`` seen at ``now`` are met, breached, breached now,
at risk or left out is the one rule of ``sla.breach`` (``period_standing``). On top of it:

- Met % is Jira Service Management's ``met / (met + breached) * 100``, where breached counts
  the metrics that stopped past their target in the period and those still open that had
  already breached; closed-only met % uses the metrics that stopped in the period alone.
  Both are None when nothing counts.
- Median and p90 are *nearest-rank* percentiles of business elapsed time over the metrics
  that stopped in the period: sort ascending, take the value at 1-based rank
  ``ceil(p / 100 * n)``.
- Trend is met % minus the previous period's met % (same length, ending at ``start``),
  in percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sla.breach import AT_RISK_FRACTION, AT_RISK_HORIZON, Standing, period_standing
from sla.clock import TicketClock
from sla.events import as_utc
from sla.targets import CreditTier, Metric, Priority

FORMULA = (
    "Met % = met / (met + breached) x 100, counting SLA metrics that stopped in the period "
    "plus metrics still open at its end that had already breached (they count as breached), "
    "as in Jira Service Management. Closed-only met % counts only metrics that stopped in "
    "the period. Median and p90 are nearest-rank over business time of stopped metrics."
)

GroupKey = Literal["channel", "priority", "assignee"]


class ComplianceError(ValueError):
    """A compliance question that cannot be answered (bad period, unknown grouping)."""


@dataclass(frozen=True)
class MetricOutcome:
    """One metric of one ticket as captured from its clock; instants are aware (UTC)."""

    ticket_key: str
    channel: str
    priority: Priority
    assignee: str | None
    metric: Metric
    target: timedelta
    started_at: datetime
    stopped_at: datetime | None
    elapsed: timedelta
    breached: bool
    due_at: datetime | None

    @property
    def fraction(self) -> float:
        """Elapsed business time as a fraction of the target."""
        return self.elapsed / self.target


@dataclass(frozen=True)
class MetricSummary:
    """Figures for one metric (or all metrics pooled, ``metric`` None) over a period."""

    metric: Metric | None
    met: int
    breached: int
    met_percent: float | None
    closed_met: int
    closed_breached: int
    closed_met_percent: float | None
    open: int
    at_risk: int
    breached_now: int
    median_elapsed: timedelta | None
    p90_elapsed: timedelta | None
    previous_met_percent: float | None = None
    trend_points: float | None = None

    @property
    def counted(self) -> int:
        """How many metrics enter met % (met + breached)."""
        return self.met + self.breached


@dataclass(frozen=True)
class ComplianceSummary:
    """A period's compliance per metric and overall, with the formula used."""

    start: datetime
    end: datetime
    now: datetime
    metrics: dict[Metric, MetricSummary]
    overall: MetricSummary
    formula: str = field(default=FORMULA)

    @property
    def met_percent(self) -> float | None:
        """Overall met % (all metrics pooled)."""
        return self.overall.met_percent


def percent(met: int, breached: int) -> float | None:
    """``met / (met + breached) * 100``, or None when there is nothing to count."""
    total = met + breached
    return None if total == 0 else 100.0 * met / total


def nearest_rank(values: Sequence[timedelta], p: float) -> timedelta | None:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``values``; None if empty."""
    if not 0 < p <= 100:
        raise ComplianceError(f"percentile must be in (0, 100], got {p!r}")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass
class MetricCounts:
    """How many metrics of a period ended met or late, and how the open ones stand: what
    ``summarize`` tallies in Python and storage counts in SQL, made figures in one place."""

    closed_met: int = 0
    closed_breached: int = 0
    open: int = 0
    at_risk: int = 0
    breached_now: int = 0

    @property
    def breached(self) -> int:
        """Breached for met %: stopped late, or still open and already late."""
        return self.closed_breached + self.breached_now

    @property
    def met_percent(self) -> float | None:
        """Met % (see the module docstring)."""
        return percent(self.closed_met, self.breached)

    def to_summary(
        self,
        metric: Metric | None,
        *,
        median_elapsed: timedelta | None,
        p90_elapsed: timedelta | None,
        previous_met_percent: float | None,
    ) -> MetricSummary:
        """These counts as a summary, with the trend against ``previous_met_percent``."""
        met_percent = self.met_percent
        trend = (
            None
            if met_percent is None or previous_met_percent is None
            else met_percent - previous_met_percent
        )
        return MetricSummary(
            metric=metric,
            met=self.closed_met,
            breached=self.breached,
            met_percent=met_percent,
            closed_met=self.closed_met,
            closed_breached=self.closed_breached,
            closed_met_percent=percent(self.closed_met, self.closed_breached),
            open=self.open,
            at_risk=self.at_risk,
            breached_now=self.breached_now,
            median_elapsed=median_elapsed,
            p90_elapsed=p90_elapsed,
            previous_met_percent=previous_met_percent,
            trend_points=trend,
        )


@dataclass
class _Tally(MetricCounts):
    closed_elapsed: list[timedelta] = field(default_factory=list)

    def add(
        self,
        outcome: MetricOutcome,
        start: datetime,
        end: datetime,
        now: datetime,
        at_risk_fraction: float,
        horizon: timedelta,
    ) -> None:
        standing = period_standing(
            outcome, start, end, now, at_risk_fraction=at_risk_fraction, horizon=horizon
        )
        if standing is None:
            return
        if not standing.is_open:
            self.closed_elapsed.append(outcome.elapsed)
            if standing.counts_as_breached:
                self.closed_breached += 1
            else:
                self.closed_met += 1
            return
        self.open += 1
        if standing is Standing.BREACHED_NOW:
            self.breached_now += 1
        elif standing is Standing.AT_RISK:
            self.at_risk += 1

    def summary(self, metric: Metric | None, previous: _Tally) -> MetricSummary:
        return self.to_summary(
            metric,
            median_elapsed=nearest_rank(self.closed_elapsed, 50),
            p90_elapsed=nearest_rank(self.closed_elapsed, 90),
            previous_met_percent=previous.met_percent,
        )


def summarize(
    outcomes: Iterable[MetricOutcome],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> ComplianceSummary:
    """Compliance of ``outcomes`` for ``[start, end)`` at ``now``, with the trend against the
    previous period of the same length (see the module docstring for the counting rules)."""
    start, end, now = as_utc(start, "start"), as_utc(end, "end"), as_utc(now, "now")
    if end <= start:
        raise ComplianceError(f"period end {end.isoformat()} must be after its start")
    if not 0 < at_risk_fraction <= 1:
        raise ComplianceError(f"at_risk_fraction must be in (0, 1], got {at_risk_fraction!r}")
    previous_start = start - (end - start)
    current: dict[Metric, _Tally] = {m: _Tally() for m in Metric}
    previous: dict[Metric, _Tally] = {m: _Tally() for m in Metric}
    overall, overall_previous = _Tally(), _Tally()
    seen: set[Metric] = set()
    for outcome in outcomes:
        seen.add(outcome.metric)
        for tally in (current[outcome.metric], overall):
            tally.add(outcome, start, end, now, at_risk_fraction, horizon)
        for tally in (previous[outcome.metric], overall_previous):
            tally.add(outcome, previous_start, start, now, at_risk_fraction, horizon)
    return ComplianceSummary(
        start=start,
        end=end,
        now=now,
        metrics={m: current[m].summary(m, previous[m]) for m in Metric if m in seen},
        overall=overall.summary(None, overall_previous),
    )


_GROUP_KEYS: dict[str, Callable[[MetricOutcome], str | None]] = {
    "channel": lambda o: o.channel,
    "priority": lambda o: Priority(o.priority).value,
    "assignee": lambda o: o.assignee,
}


def summarize_by(
    outcomes: Iterable[MetricOutcome],
    key: GroupKey,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> dict[str | None, ComplianceSummary]:
    """One summary per channel, priority or assignee (None: unassigned, listed last)."""
    try:
        group_of = _GROUP_KEYS[key]
    except KeyError:
        raise ComplianceError(
            f"cannot group by {key!r}: use one of {', '.join(_GROUP_KEYS)}"
        ) from None
    groups: dict[str | None, list[MetricOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(group_of(outcome), []).append(outcome)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))
    return {
        group: summarize(
            groups[group], start, end, now, at_risk_fraction=at_risk_fraction, horizon=horizon
        )
        for group in ordered
    }


def credit_owed(percent: float | None, tiers: Iterable[CreditTier]) -> CreditTier | None:
    """The credit tier owed at ``percent`` compliance: the tightest tier it falls below."""
    if percent is None:
        return None
    owed = [tier for tier in tiers if percent < tier.below_percent]
    if not owed:
        return None
    return min(owed, key=lambda tier: (tier.below_percent, -tier.credit_percent))


def outcomes_from_clock(
    ticket_key: str,
    channel: str,
    priority: Priority,
    assignee: str | None,
    clock: TicketClock,
) -> list[MetricOutcome]:
    """One outcome per measured metric of ``clock``, as the compliance maths expects."""
    return [
        MetricOutcome(
            ticket_key=ticket_key,
            channel=channel,
            priority=Priority.parse(priority),
            assignee=assignee,
            metric=metric_clock.metric,
            target=metric_clock.target,
            started_at=metric_clock.started_at,
            stopped_at=metric_clock.stopped_at,
            elapsed=metric_clock.elapsed,
            breached=metric_clock.breached,
            due_at=metric_clock.due_at,
        )
        for metric_clock in clock.metrics.values()
    ]


__all__ = [
    "FORMULA",
    "ComplianceError",
    "ComplianceSummary",
    "MetricCounts",
    "MetricOutcome",
    "MetricSummary",
    "credit_owed",
    "nearest_rank",
    "outcomes_from_clock",
    "percent",
    "summarize",
    "summarize_by",
]
