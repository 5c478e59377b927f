"""The portal's compliance pages (the overview and a channel) as typed results.

Every number comes from the functions `/sla report` and `/sla status` call
(`commands.report.compliance_report`, `commands.status.open_counts`, `commands.reporting`),
so a page and a verb for the same scope and period cannot disagree. Who may see a scope is
decided by the caller (bot/portal/access.py); these functions only take channel ids. The
detail pages are commands/portal_details.py, customer links commands/share_links.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from commands.deps import Deps
from commands.report import compliance_report
from commands.report_csv import TicketCsvRow, csv_rows
from commands.reporting import ReportData, build_report
from commands.status import OpenCounts, open_counts
from commands.ticket_facts import TicketFacts, load_facts
from sla.periods import Period, parse_period
from sla.policy import Policy
from sla.targets import Metric
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories import portal_reads

PERIODS = ("7d", "30d", "90d")
TREND_WEEKS = 12
HEADLINE = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION)
BUSINESS_HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class WeekPoint:
    """Met % per headline metric for one week of the trend (None: nothing measured)."""

    start: datetime
    label: str
    percents: dict[str, float | None]


@dataclass(frozen=True)
class ChannelRank:
    """A channel's misses in the period (the overview ranks channels by them)."""

    channel_id: str
    breached: int
    met: int
    met_percent: float | None


@dataclass(frozen=True)
class CompliancePage:
    """Overview or channel page: the report, what is open now, the trend and the ranking."""

    period: Period
    tz: str
    report: ReportData
    now_counts: OpenCounts
    due_soon: int  # running metrics that breach within the next 24 business hours
    trend: tuple[WeekPoint, ...]
    channels: tuple[ChannelRank, ...]
    facts: tuple[TicketFacts, ...]  # the period's tickets (CSV)
    titles: dict[str, str]  # ticket key -> title, for the breaches listed


def workspace_of(deps: Deps, team_id: str) -> tuple[int, str]:
    """The workspace's row id and time zone."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return stored_id(workspace), workspace.tz


def period_of(text: str | None, *, tz: str, now: datetime) -> Period:
    """The period picker's value (7d/30d/90d/YYYY-MM) as `/sla report` reads it."""
    return parse_period(text, tz=tz, now=now)


def known_channels(deps: Deps, team_id: str) -> list[str]:
    """Channels with tickets or tracking in the workspace (what the portal can show)."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return portal_reads.channels_with_tickets(
            session=session, workspace_id=stored_id(workspace))


def compliance_page(
    deps: Deps, *, team_id: str, channel_id: str | None, period: Period,
    ranked_channels: Sequence[str] = (),
) -> CompliancePage:
    """The numbers of `/sla report` and `/sla status` for one channel or the workspace."""
    now = deps.clock.now()
    scope = "all channels" if channel_id is None else f"<#{channel_id}>"
    trend_start = _week_start(now, TREND_WEEKS)
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        workspace_id, tz = stored_id(workspace), workspace.tz
        # One load for the period and the trend; each report keeps the tickets of its span.
        loaded = load_facts(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            start=min(period.start, trend_start), end=max(period.end, now), now=now,
        )
        report, _all = compliance_report(
            session, workspace_id=workspace_id, channel_id=channel_id, period=period, now=now,
            tz=tz, scope=scope, facts=loaded,
        )
        facts = [f for f in loaded if f.alive_in(period)]
        counts = open_counts(session, workspace_id=workspace_id, channel_id=channel_id, now=now)
        trend_facts = [f for f in loaded if f.created_at < now and (
            f.resolved_at is None or f.resolved_at >= trend_start)]
        open_facts = [f for f in trend_facts if f.resolved_at is None]
        policies: dict[str, Policy] = {}

        def policy_of(channel: str) -> Policy:
            if channel not in policies:
                policies[channel] = repo.get_policy(
                    session=session, workspace_id=workspace_id, channel_id=channel)
            return policies[channel]

        due_soon = _due_soon(open_facts, policy_of, now)
        titles = portal_reads.ticket_titles(session=session, workspace_id=workspace_id,
                                            keys=[b.ticket_key for b in report.worst])
    trend = tuple(_trend(trend_facts, now=now, tz=tz))
    ranks = []
    for channel in ranked_channels:
        mine = [f for f in facts if f.channel_id == channel]
        if not mine:
            continue
        data = build_report(mine, period=period, now=now, scope=f"<#{channel}>", tz=tz)
        breached = sum(r.breached for r in data.totals)
        met = sum(r.met for r in data.totals)
        ranks.append(ChannelRank(channel, breached, met, _percent(met, breached)))
    ranks.sort(key=lambda r: (-r.breached, r.met_percent or 0.0, r.channel_id))
    return CompliancePage(
        period=period, tz=tz, report=report, now_counts=counts,
        due_soon=due_soon, trend=trend, channels=tuple(ranks),
        facts=tuple(facts), titles=titles,
    )


def period_tickets(
    deps: Deps, *, team_id: str, channel_id: str | None, period: Period
) -> list[TicketFacts]:
    """The tickets `/sla report csv` exports for this scope and period."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        _data, facts = compliance_report(
            session, workspace_id=stored_id(workspace), channel_id=channel_id, period=period,
            now=now, tz=workspace.tz, scope="csv",
        )
    return facts


def ticket_csv_rows(facts: Sequence[TicketFacts], period: Period) -> list[TicketCsvRow]:
    """The CSV rows of `/sla report csv` for these tickets."""
    return csv_rows(facts, period=period)


def _trend(facts: Sequence[TicketFacts], *, now: datetime, tz: str) -> list[WeekPoint]:
    points = []
    start = _week_start(now, TREND_WEEKS)
    for week in range(TREND_WEEKS):
        begin = start + timedelta(days=7 * week)
        period = Period(begin, min(begin + timedelta(days=7), now),
                        begin.astimezone(ZoneInfo(tz)).strftime("%b %d"))
        data = build_report(facts, period=period, now=now, scope="trend", tz=tz)
        by_metric = {row.metric: row.met_percent for row in data.totals}
        points.append(WeekPoint(begin, period.label,
                                {m.value: by_metric.get(m.value) for m in HEADLINE}))
    return points


def _week_start(now: datetime, weeks: int) -> datetime:
    """The start of the trend: `weeks` whole weeks back from now (rolling, UTC)."""
    return now.astimezone(UTC) - timedelta(days=7 * weeks)


def _due_soon(facts: Sequence[TicketFacts], policies: Callable[[str], Policy],
              now: datetime) -> int:
    """Running targets that fall due within the next 24 business hours of their channel."""
    horizons: dict[str, datetime] = {}
    count = 0
    for fact in facts:
        if fact.channel_id not in horizons:
            horizons[fact.channel_id] = policies(fact.channel_id).calendar.due(
                now, BUSINESS_HORIZON)
        horizon = horizons[fact.channel_id]
        count += sum(1 for o in fact.outcomes
                     if o.stopped_at is None and o.due_at is not None
                     and now < o.due_at <= horizon and not o.breached)
    return count


def _percent(met: int, breached: int) -> float | None:
    total = met + breached
    return None if total == 0 else 100.0 * met / total
