"""The portal's compliance pages (the overview and a channel) as typed results.

Every number comes from the functions `/sla report` and `/sla status` call
(`commands.report_figures`, `commands.status.open_counts`: the daily rollups), so a page and
a verb for the same scope and period cannot disagree. Who may see a scope is
decided by the caller (bot/portal/access.py); these functions only take channel ids. The
detail pages are commands/portal_details.py, customer links commands/share_links.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands import portal_figures as figures
from commands.clocks import ChannelPolicies
from commands.deps import Deps
from commands.report_csv import TicketCsvRow, csv_rows
from commands.report_figures import report_figures
from commands.reporting import ReportData
from commands.status import OpenCounts, open_counts
from commands.ticket_facts import TicketFacts, load_facts
from sla.periods import Period, parse_period
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
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        workspace_id, tz = stored_id(workspace), workspace.tz
        policies = ChannelPolicies(session, workspace_id)
        found = report_figures(session, workspace_id=workspace_id, channel_id=channel_id,
                               period=period, now=now, tz=tz, scope=scope, policies=policies)
        counts = open_counts(session, workspace_id=workspace_id, channel_id=channel_id, now=now)
        due_soon = figures.due_soon(session, workspace_id=workspace_id, channel_id=channel_id,
                                    now=now, horizon=BUSINESS_HORIZON, policies=policies)
        trend = tuple(
            WeekPoint(start, start.astimezone(ZoneInfo(tz)).strftime("%b %d"), percents)
            for start, percents in figures.weekly_percents(
                session, workspace_id=workspace_id, channel_id=channel_id, now=now,
                weeks=TREND_WEEKS, metrics=HEADLINE))
        titles = portal_reads.ticket_titles(session=session, workspace_id=workspace_id,
                                            keys=[b.ticket_key for b in found.data.worst])
    return CompliancePage(
        period=period, tz=tz, report=found.data, now_counts=counts, due_soon=due_soon,
        trend=trend, titles=titles,
        channels=tuple(ChannelRank(*rank)
                       for rank in figures.channel_misses(found, ranked_channels)),
    )


def period_tickets(
    deps: Deps, *, team_id: str, channel_id: str | None, period: Period
) -> list[TicketFacts]:
    """The tickets `/sla report csv` exports for this scope and period."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return load_facts(session=session, workspace_id=stored_id(workspace),
                          channel_id=channel_id, start=period.start, end=period.end, now=now)


def ticket_csv_rows(facts: Sequence[TicketFacts], period: Period) -> list[TicketCsvRow]:
    """The CSV rows of `/sla report csv` for these tickets."""
    return csv_rows(facts, period=period)
