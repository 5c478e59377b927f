"""Report and digest data: periods, weekly digest slots, plain view models and the CSV export.

The numbers come from `sla.compliance` over the tickets of a period; the Block Kit comes from
bot/views/digest.py. Nothing here talks to Slack.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands.charts import DailyCompliance
from commands.text import clip, csv_cell
from sla.clock import ClockError, compute_clock
from sla.compliance import (
    ComplianceSummary,
    MetricOutcome,
    credit_owed,
    outcomes_from_clock,
    summarize,
    summarize_by,
)
from sla.policy import CreditTier, Metric, Policy, Priority
from storage.mappers import metric_outcomes
from storage.models import TicketStatus
from storage.repositories.tickets import list_tickets_in_period, load_clock_events
from storage.repositories.workspaces import get_policy

log = logging.getLogger(__name__)

DEFAULT_PERIOD = "30d"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SLOT_WEEKDAY = 0
DEFAULT_SLOT_TIME = time(9, 0)
MAX_PERIOD_DAYS = 366
FIRST_YEAR, LAST_YEAR = 1970, 9998
CHART_DAYS = 56  # eight weeks of daily compliance in the digest chart

_DAYS_RE = re.compile(r"^(\d+)d$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class ReportError(ValueError):
    """A report or digest argument is wrong; the message says what and how to write it."""


@dataclass(frozen=True)
class Period:
    """A reporting period [start, end) in UTC with a label people read."""

    start: datetime
    end: datetime
    label: str

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        length = self.end - self.start
        return Period(self.start - length, self.start, f"before {self.label}")


def parse_period(text: str | None, *, tz: str, now: datetime) -> Period:
    """Parse `7d`/`30d`/`90d` (rolling days up to now) or `YYYY-MM` (a month in `tz`)."""
    _require_aware(now, "now")
    spec = (text or DEFAULT_PERIOD).strip().lower()
    days = _DAYS_RE.match(spec)
    if days:
        # Checked by length first: int() of a pasted page of digits is slow, then refused.
        digits = days.group(1)
        count = int(digits) if len(digits) <= len(str(MAX_PERIOD_DAYS)) else 0
        if not 1 <= count <= MAX_PERIOD_DAYS:
            raise ReportError(
                f"a period in days must be 1d to {MAX_PERIOD_DAYS}d, got '{clip(spec, 40)}'")
        end = now.astimezone(UTC)
        return Period(end - timedelta(days=count), end, f"last {count} days")
    month = _MONTH_RE.match(spec)
    if month:
        return month_period(int(month.group(1)), int(month.group(2)), tz=tz)
    raise ReportError(
        f"period must be 7d, 30d, 90d or a month like 2026-10, got '{clip(text or '', 40)}'")


def month_period(year: int, month: int, *, tz: str) -> Period:
    """The calendar month in the workspace time zone, as UTC instants."""
    if not 1 <= month <= 12:
        raise ReportError(f"month must be 01 to 12, got '{year}-{month:02d}'")
    # Far-off years overflow when moved to UTC (0001-01 east of Greenwich, 9999-12's end).
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportError(
            f"the month must be in the years {FIRST_YEAR} to {LAST_YEAR}, got "
            f"'{year:04d}-{month:02d}'")
    zone = ZoneInfo(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC), start.strftime("%B %Y"))


# --- weekly digest slots ---------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly local wall-clock slot such as Monday 09:00 in Europe/Berlin."""

    weekday: int = DEFAULT_SLOT_WEEKDAY
    at: time = DEFAULT_SLOT_TIME
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ReportError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        try:
            ZoneInfo(self.tz)
        except (ValueError, KeyError) as error:
            raise ReportError(f"unknown time zone '{self.tz}'") from error

    @property
    def label(self) -> str:
        """`Mon 09:00 Europe/Berlin`."""
        return f"{WEEKDAYS[self.weekday].title()} {self.at:%H:%M} {self.tz}"

    @property
    def cron(self) -> str:
        """Five-field crontab for the scheduler, e.g. `0 9 * * mon` (read in `tz`)."""
        return f"{self.at.minute} {self.at.hour} * * {WEEKDAYS[self.weekday]}"

    def on_or_before(self, instant: datetime) -> datetime:
        """The latest slot instant (UTC) at or before `instant`."""
        _require_aware(instant, "instant")
        zone = ZoneInfo(self.tz)
        local_day = instant.astimezone(zone).date()
        day = local_day - timedelta(days=(local_day.weekday() - self.weekday) % 7)
        candidate = self._instant_on(day)
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall clock, not instant.
        if candidate > instant.astimezone(UTC):
            candidate = self._instant_on(day - timedelta(days=7))
        return candidate

    def next_after(self, instant: datetime) -> datetime:
        """The first slot instant (UTC) strictly after `instant`."""
        previous = self.on_or_before(instant)
        local_day = previous.astimezone(ZoneInfo(self.tz)).date()
        return self._instant_on(local_day + timedelta(days=7))

    def _instant_on(self, day: date) -> datetime:
        # A wall time that does not exist (spring forward) resolves with the offset before the
        # change, i.e. one hour later on the new clock; a repeated one takes its first occurrence.
        return datetime.combine(day, self.at, tzinfo=ZoneInfo(self.tz)).astimezone(UTC)


def parse_weekly_slot(day: str, at: str, *, tz: str) -> WeeklySlot:
    """Parse `mon` and `09:00` into a WeeklySlot in `tz`."""
    key = day.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise ReportError(f"day must be one of {', '.join(WEEKDAYS)}, got '{day}'")
    match = _TIME_RE.match(at.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ReportError(f"time must be HH:MM between 00:00 and 23:59, got '{at}'")
    return WeeklySlot(WEEKDAYS.index(key), time(int(match.group(1)), int(match.group(2))), tz)


def digest_weeks(slot_start: datetime, *, tz: str) -> tuple[Period, Period]:
    """Last week and the week before it: the 7 local days ending at midnight of the slot's day."""
    _require_aware(slot_start, "slot_start")
    zone = ZoneInfo(tz)
    end_day = slot_start.astimezone(zone).date()
    bounds = [_local_midnight(end_day - timedelta(days=7 * n), zone) for n in (2, 1, 0)]
    this_week = Period(bounds[1], bounds[2], _week_label(end_day))
    week_before = Period(bounds[0], bounds[1], _week_label(end_day - timedelta(days=7)))
    return this_week, week_before


def chart_days(period_end: datetime, *, tz: str, count: int = CHART_DAYS) -> list[Period]:
    """The `count` local days ending at `period_end`'s local date, oldest first."""
    zone = ZoneInfo(tz)
    last = period_end.astimezone(zone).date()
    days = []
    for back in range(count, 0, -1):
        day = last - timedelta(days=back)
        days.append(
            Period(_local_midnight(day, zone), _local_midnight(day + timedelta(days=1), zone),
                   day.isoformat())
        )
    return days


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def _week_label(end_day: date) -> str:
    first, last = end_day - timedelta(days=7), end_day - timedelta(days=1)
    return f"{first:%b} {first.day} to {last:%b} {last.day}"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


# --- view models -----------------------------------------------------------------------------


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

    @property
    def empty(self) -> bool:
        """True when the week had no tickets at all and nothing is at risk now."""
        measured = sum(m.met + m.breached for m in self.metrics)
        return self.opened == 0 and self.resolved == 0 and measured == 0 and not self.at_risk


# --- CSV export --------------------------------------------------------------------------------

CSV_COLUMNS = (
    "ticket",
    "channel",
    "priority",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
    "first_response_business_seconds",
    "first_response_target_seconds",
    "first_response",
    "resolution_business_seconds",
    "resolution_target_seconds",
    "resolution",
    "link",
)


@dataclass(frozen=True)
class TicketCsvRow:
    """One ticket of the CSV export; results are `met`, `breached` or `running`."""

    ticket: str
    channel: str
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_business: timedelta | None
    first_response_target: timedelta | None
    first_response: str
    resolution_business: timedelta | None
    resolution_target: timedelta | None
    resolution: str
    link: str = ""


def tickets_csv(rows: Iterable[TicketCsvRow]) -> str:
    """Render tickets as CSV text (header + one row per ticket; instants in ISO 8601 UTC)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                csv_cell(row.ticket),
                csv_cell(row.channel),
                csv_cell(row.priority),
                csv_cell(row.status),
                _iso(row.created_at),
                _iso(row.first_response_at),
                _iso(row.resolved_at),
                _seconds(row.first_response_business),
                _seconds(row.first_response_target),
                csv_cell(row.first_response),
                _seconds(row.resolution_business),
                _seconds(row.resolution_target),
                csv_cell(row.resolution),
                csv_cell(row.link),
            ]
        )
    return buffer.getvalue()


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: timedelta | None) -> str:
    return "" if value is None else str(int(value.total_seconds()))


# --- from tickets to view models ----------------------------------------------------------------

AT_RISK_FRACTION = 0.8
AT_RISK_HORIZON = timedelta(hours=1)
DEFAULT_GOAL_PERCENT = 95.0
HEADLINE_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
CREDIT_METRIC = Metric.RESOLUTION  # contracts state credits against resolution compliance
MAX_MISSED_GROUPS = 3


@dataclass(frozen=True)
class TicketFacts:
    """What reports need of one ticket: its identity, instants and metric outcomes."""

    key: str
    channel_id: str
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    outcomes: tuple[MetricOutcome, ...]
    link: str | None = None

    def alive_in(self, period: Period) -> bool:
        """Created before the period ends and not resolved before it starts."""
        return self.created_at < period.end and (
            self.resolved_at is None or self.resolved_at >= period.start
        )


def build_report(
    facts: Sequence[TicketFacts],
    *,
    period: Period,
    now: datetime,
    scope: str,
    tz: str,
    credit_tiers: Sequence[CreditTier] = (),
    worst_limit: int = 10,
) -> ReportData:
    """The compliance report of `facts` over `period` at `now` (numbers from sla.compliance)."""
    in_period = [f for f in facts if f.alive_in(period)]
    outcomes = [o for f in in_period for o in f.outcomes]
    summary = summarize(outcomes, period.start, period.end, now)
    totals = tuple(_metric_row(m, None, summary, outcomes) for m in _metrics_of(summary))
    rows = []
    for priority, group in summarize_by(outcomes, "priority", period.start, period.end,
                                        now).items():
        mine = [o for o in outcomes if o.priority == priority]
        # A priority with nothing met or breached (only open tickets) would be a row of n/a.
        rows += [
            _metric_row(m, str(priority), group, mine)
            for m in _metrics_of(group)
            if group.metrics[m].counted
        ]
    credit = None
    if credit_tiers:
        resolution = summary.metrics.get(CREDIT_METRIC)
        percent_met = resolution.met_percent if resolution else None
        tier = credit_owed(percent_met, credit_tiers)
        credit = CreditLine(
            CREDIT_METRIC.value,
            percent_met,
            tier.credit_percent if tier else None,
            tier.below_percent if tier else None,
        )
    links = {f.key: f.link for f in in_period}
    return ReportData(
        scope=scope,
        period=period,
        tz=tz,
        ticket_count=len(in_period),
        totals=totals,
        rows=tuple(rows),
        worst=tuple(_breach_rows(outcomes, period, now, links)[:worst_limit]),
        credit=credit,
        formula=summary.formula,
    )


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


def csv_rows(facts: Iterable[TicketFacts], *, period: Period) -> list[TicketCsvRow]:
    """One CSV row per ticket alive in `period`, oldest first."""
    rows = []
    for fact in sorted((f for f in facts if f.alive_in(period)), key=lambda f: f.created_at):
        by_metric = {o.metric: o for o in fact.outcomes}
        first, resolution = (by_metric.get(m) for m in HEADLINE_METRICS)
        rows.append(
            TicketCsvRow(
                ticket=fact.key,
                channel=fact.channel_id,
                priority=fact.priority,
                status=fact.status,
                created_at=fact.created_at,
                first_response_at=fact.first_response_at,
                resolved_at=fact.resolved_at,
                first_response_business=first.elapsed if first else None,
                first_response_target=first.target if first else None,
                first_response=_result(first),
                resolution_business=resolution.elapsed if resolution else None,
                resolution_target=resolution.target if resolution else None,
                resolution=_result(resolution),
                link=fact.link or "",
            )
        )
    return rows


def counted_breach(outcome: MetricOutcome, period: Period, now: datetime) -> bool:
    """True when `outcome` counts as breached in `period` by sla.compliance's rules."""
    t = min(period.end, now)
    stopped = outcome.stopped_at
    if stopped is not None and period.start <= stopped < period.end:
        return outcome.breached
    if not (outcome.started_at < t and (stopped is None or stopped >= t)):
        return False
    breached = outcome.due_at is not None and outcome.due_at < t
    if stopped is None and (t == now or outcome.due_at is None):
        breached = breached or outcome.breached
    return breached


def _metrics_of(summary: ComplianceSummary) -> list[Metric]:
    return [m for m in Metric if m in summary.metrics]


def _metric_row(
    metric: Metric, priority: str | None, summary: ComplianceSummary,
    outcomes: Sequence[MetricOutcome],
) -> MetricRow:
    figures = summary.metrics[metric]
    targets = {o.target for o in outcomes if o.metric == metric}
    return MetricRow(
        metric=metric.value,
        priority=priority,
        # Channels may have different policies; a single target is shown only when it is one.
        target=next(iter(targets)) if priority is not None and len(targets) == 1 else None,
        met=figures.met,
        breached=figures.breached,
        met_percent=figures.met_percent,
        median=figures.median_elapsed,
        p90=figures.p90_elapsed,
    )


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
    outcomes: Sequence[MetricOutcome], key: str, period: Period, now: datetime
) -> tuple[MissGroup, ...]:
    groups = summarize_by(outcomes, key, period.start, period.end, now)  # type: ignore[arg-type]
    missed = [
        MissGroup(str(name), s.overall.breached, s.overall.met_percent)
        for name, s in groups.items()
        if name is not None and s.overall.breached > 0
    ]
    missed.sort(key=lambda g: (-g.breached, g.met_percent or 0.0, g.name))
    return tuple(missed[:MAX_MISSED_GROUPS])


def _at_risk_rows(facts: Iterable[TicketFacts], now: datetime) -> list[AtRiskRow]:
    rows = []
    for fact in facts:
        for o in fact.outcomes:
            if o.stopped_at is not None or o.due_at is None or o.started_at > now:
                continue  # stopped, paused (no due instant) or not yet started
            overdue = o.due_at <= now or o.breached
            if overdue or o.fraction >= AT_RISK_FRACTION or o.due_at <= now + AT_RISK_HORIZON:
                rows.append(
                    AtRiskRow(fact.key, fact.channel_id, str(o.metric), o.due_at,
                              o.target - o.elapsed, fact.link)
                )
    return sorted(rows, key=lambda r: (r.remaining, r.ticket_key))


def _result(outcome: MetricOutcome | None) -> str:
    if outcome is None:
        return ""
    if outcome.breached:
        return "breached"
    return "met" if outcome.stopped_at is not None else "running"


def load_facts(
    *, session: Any, workspace_id: int, start: datetime, end: datetime, now: datetime,
    channel_id: str | None = None,
) -> list[TicketFacts]:
    """Tickets alive in [start, end) with their outcomes; open ones get a fresh clock at `now`.

    Resolved tickets carry final stored results. Open tickets' stored elapsed time is a
    snapshot of their last change, so their clocks are recomputed from their events.
    """
    policies: dict[str, Policy] = {}
    facts = []
    for ticket in list_tickets_in_period(
        session=session, workspace_id=workspace_id, start=start, end=end, channel_id=channel_id
    ):
        outcomes = metric_outcomes(ticket)
        if ticket.status != TicketStatus.RESOLVED.value:
            if ticket.channel_id not in policies:
                policies[ticket.channel_id] = get_policy(
                    session=session, workspace_id=workspace_id, channel_id=ticket.channel_id
                )
            try:
                clock = compute_clock(
                    load_clock_events(session=session, ticket_id=ticket.id),
                    policies[ticket.channel_id],
                    now,
                )
            except ClockError as exc:
                # One ticket with a broken history must not sink the whole report.
                log.warning("report uses stored SLA results of %s: %s", ticket.key, exc)
            else:
                outcomes = outcomes_from_clock(ticket.key, ticket.channel_id,
                                               Priority(ticket.priority), ticket.assignee_id,
                                               clock)
        facts.append(
            TicketFacts(
                key=ticket.key,
                channel_id=ticket.channel_id,
                priority=ticket.priority,
                status=ticket.status,
                created_at=ticket.created_at,
                first_response_at=ticket.first_response_at,
                resolved_at=ticket.resolved_at,
                outcomes=tuple(outcomes),
                link=ticket.permalink,
            )
        )
    return facts
