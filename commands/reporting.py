"""Report and digest view models, and the digest's builders that fill them from a period's
tickets (the report's numbers come from the rollups: `commands.report_figures`).

The numbers, breaches and risks are `sla.compliance`'s; the periods are `sla.periods`'; the
near misses and breach causes `commands.digest_insight`'s; the forecast
`commands.forecasts`'. The Block Kit comes from bot/views/digest.py. Nothing here talks to
Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from commands.charts import DailyCompliance
from commands.digest_insight import NearMissRow, near_miss_rows
from commands.forecasts import ChannelForecast
from commands.ticket_facts import TicketFacts
from sla.compliance import (
    GroupKey,
    MetricOutcome,
    MetricSummary,
    summarize,
    summarize_by,
)
from sla.periods import Period, chart_days, digest_weeks
from sla.targets import Metric

DEFAULT_GOAL_PERCENT = 95.0
HEADLINE_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
MAX_MISSED_GROUPS = 3
# A look at one instant for `sla.compliance`: a period this short around `now` holds only
# what is open at `now`.
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class MetricRow:
    """One line of a report table: a metric, optionally for one priority."""

    metric: str
    priority: str | None
    target: timedelta | None
    met: int
    breached: int
    met_percent: float | None
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class MetricTrend:
    """A digest headline: this week's met % for one metric against the week before."""

    metric: str
    met: int
    breached: int
    met_percent: float | None
    previous_percent: float | None
    median: timedelta | None
    p90: timedelta | None

    @property
    def delta_points(self) -> float | None:
        """Change in percentage points since the week before (None when either is unknown)."""
        if self.met_percent is None or self.previous_percent is None:
            return None
        return self.met_percent - self.previous_percent


@dataclass(frozen=True)
class BreachRow:
    """A breached metric of one ticket, with how far over target it went."""

    ticket_key: str
    channel_id: str
    priority: str
    metric: str
    over_by: timedelta
    link: str | None = None
    cause: str | None = None  # why, in one phrase from the ticket's ledger (sla.causes)


@dataclass(frozen=True)
class MissGroup:
    """A channel or priority and how many breaches it had."""

    name: str
    breached: int
    met_percent: float | None


@dataclass(frozen=True)
class AtRiskRow:
    """A running metric close to its due instant (or already past it)."""

    ticket_key: str
    channel_id: str
    metric: str
    due_at: datetime | None
    remaining: timedelta
    link: str | None = None


@dataclass(frozen=True)
class CreditLine:
    """Service credit owed for a period: the compliance it is based on and the tier hit."""

    metric: str
    met_percent: float | None
    credit_percent: float | None
    below_percent: float | None


@dataclass(frozen=True)
class ReportData:
    """Everything the compliance report shows."""

    scope: str
    period: Period
    tz: str
    ticket_count: int
    totals: tuple[MetricRow, ...]
    rows: tuple[MetricRow, ...]
    worst: tuple[BreachRow, ...]
    credit: CreditLine | None
    formula: str


@dataclass(frozen=True)
class DigestData:
    """Everything the weekly digest shows."""

    scope: str
    period: Period
    previous: Period
    tz: str
    opened: int
    resolved: int
    metrics: tuple[MetricTrend, ...]
    breaches: tuple[BreachRow, ...] = ()
    channels_missed: tuple[MissGroup, ...] = ()
    priorities_missed: tuple[MissGroup, ...] = ()
    at_risk: tuple[AtRiskRow, ...] = ()
    goal_percent: float = 95.0
    near_misses: tuple[NearMissRow, ...] = ()
    forecasts: tuple[ChannelForecast, ...] = ()  # from now, for the channels with tickets waiting

    @property
    def empty(self) -> bool:
        """True when the week had no tickets at all and nothing is at risk now or likely to
        breach soon."""
        measured = sum(m.met + m.breached for m in self.metrics)
        likely = any(f.forecast.likely for f in self.forecasts)
        return (self.opened == 0 and self.resolved == 0 and measured == 0
                and not self.at_risk and not likely)


# --- from tickets to view models ----------------------------------------------------------------


def build_digest(
    facts: Sequence[TicketFacts],
    *,
    slot_start: datetime,
    now: datetime,
    scope: str,
    tz: str,
    goal_percent: float = DEFAULT_GOAL_PERCENT,
) -> DigestData:
    """The weekly digest for the week before `slot_start` (local to `tz`), looked at `now`."""
    week, week_before = digest_weeks(slot_start, tz=tz)
    outcomes = [o for f in facts if f.alive_in(week) for o in f.outcomes]
    before = [o for f in facts if f.alive_in(week_before) for o in f.outcomes]
    summary = summarize(outcomes, week.start, week.end, now)
    previous = summarize(before, week_before.start, week_before.end, now)
    trends = []
    for metric in HEADLINE_METRICS:
        current = summary.metrics.get(metric)
        earlier = previous.metrics.get(metric)
        trends.append(
            MetricTrend(
                metric=metric.value,
                met=current.met if current else 0,
                breached=current.breached if current else 0,
                met_percent=current.met_percent if current else None,
                previous_percent=earlier.met_percent if earlier else None,
                median=current.median_elapsed if current else None,
                p90=current.p90_elapsed if current else None,
            )
        )
    links = {f.key: f.link for f in facts}
    return DigestData(
        scope=scope,
        period=week,
        previous=week_before,
        tz=tz,
        opened=sum(1 for f in facts if week.start <= f.created_at < week.end),
        resolved=sum(
            1 for f in facts if f.resolved_at is not None and week.start <= f.resolved_at < week.end
        ),
        metrics=tuple(trends),
        breaches=tuple(_breach_rows(outcomes, week, now, links)),
        # A one-channel digest would just name its own channel again.
        channels_missed=(
            _most_missed(outcomes, "channel", week, now)
            if len({o.channel for o in outcomes}) > 1
            else ()
        ),
        priorities_missed=_most_missed(outcomes, "priority", week, now),
        at_risk=tuple(_at_risk_rows(facts, now)),
        goal_percent=goal_percent,
        near_misses=near_miss_rows(outcomes, week, now, links),
    )


def build_chart_days(
    facts: Sequence[TicketFacts], *, end: datetime, now: datetime, tz: str
) -> list[DailyCompliance]:
    """Daily met % per headline metric over the 8 weeks of local days before `end`."""
    days = chart_days(end, tz=tz)
    outcomes = [o for f in facts for o in f.outcomes]
    series = []
    for day in days:
        # Only what can count that day: stopped that day, or started before it ended and open.
        relevant = [
            o
            for o in outcomes
            if o.started_at < day.end and (o.stopped_at is None or o.stopped_at >= day.start)
        ]
        summary = summarize(relevant, day.start, day.end, now)
        first, resolution = (summary.metrics.get(m) for m in HEADLINE_METRICS)
        series.append(
            DailyCompliance(
                day=date.fromisoformat(day.label),
                first_response=first.met_percent if first else None,
                resolution=resolution.met_percent if resolution else None,
            )
        )
    return series


def _breach_rows(
    outcomes: Iterable[MetricOutcome], period: Period, now: datetime,
    links: Mapping[str, str | None],
) -> list[BreachRow]:
    rows = [
        BreachRow(
            ticket_key=o.ticket_key,
            channel_id=o.channel,
            priority=str(o.priority),
            metric=str(o.metric),
            over_by=max(o.elapsed - o.target, timedelta(0)),
            link=links.get(o.ticket_key),
        )
        for o in outcomes
        if counted_breach(o, period, now)
    ]
    return sorted(rows, key=lambda r: (-r.over_by, r.ticket_key, r.metric))


def _most_missed(
    outcomes: Sequence[MetricOutcome], key: GroupKey, period: Period, now: datetime
) -> tuple[MissGroup, ...]:
    groups = summarize_by(outcomes, key, period.start, period.end, now)
    missed = [
        MissGroup(str(name), s.overall.breached, s.overall.met_percent)
        for name, s in groups.items()
        if name is not None and s.overall.breached > 0
    ]
    missed.sort(key=lambda g: (-g.breached, g.met_percent or 0.0, g.name))
    return tuple(missed[:MAX_MISSED_GROUPS])


def _at_risk_rows(facts: Iterable[TicketFacts], now: datetime) -> list[AtRiskRow]:
    rows = [
        AtRiskRow(fact.key, fact.channel_id, str(o.metric), o.due_at, o.target - o.elapsed,
                  fact.link)
        for fact in facts
        for o in fact.outcomes
        # Paused metrics have no due instant to show: they wait until the ticket resumes.
        if o.due_at is not None and _needs_attention(o, now)
    ]
    return sorted(rows, key=lambda r: (r.remaining, r.ticket_key))


def counted_breach(outcome: MetricOutcome, period: Period, now: datetime) -> bool:
    """True when `outcome` counts as breached in `period` by sla.compliance's rules."""
    return _counted(outcome, period.start, period.end, now).breached > 0


def _needs_attention(outcome: MetricOutcome, now: datetime) -> bool:
    """Running at `now` and breached or at risk, by sla.compliance's rules."""
    figures = _counted(outcome, now - _INSTANT, now + _INSTANT, now)
    return figures.breached_now + figures.at_risk > 0


def _counted(outcome: MetricOutcome, start: datetime, end: datetime,
             now: datetime) -> MetricSummary:
    """How sla.compliance counts this one outcome in [start, end) looked at `now`."""
    return summarize((outcome,), start, end, now).overall
