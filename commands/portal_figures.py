"""The numbers of a portal compliance page that no verb shows: the weekly trend, the channel
ranking and the targets due soon. Read from the rollups and the open tickets like the report
beside them (`commands.report_figures`), never from the period's tickets one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from commands.clocks import ChannelPolicies
from commands.report_figures import ReportFigures
from sla.compliance import percent
from sla.targets import Metric
from storage.repositories.compliance_series import period_series
from storage.repositories.period_tickets import running_due


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """The starts of the last `weeks` weeks of whole UTC days, the last one ending with today:
    the days the rollups hold, so a week reads no ticket (today is looked at up to now)."""
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    first = tomorrow - timedelta(days=7 * weeks)
    return [first + timedelta(days=7 * week) for week in range(weeks)]


def weekly_percents(
    session: Session, *, workspace_id: int, channel_id: str | None, now: datetime, weeks: int,
    metrics: Sequence[Metric],
) -> list[tuple[datetime, dict[str, float | None]]]:
    """Met % per metric of each of the last `weeks` weeks (see `week_starts`)."""
    starts = week_starts(now, weeks)
    bounds = [*starts, starts[-1] + timedelta(days=7)]
    series = period_series(session=session, workspace_id=workspace_id, bounds=bounds, now=now,
                           channel_id=channel_id)
    return [(start, {metric.value: percent(*counts[metric]) for metric in metrics})
            for start, counts in zip(starts, series, strict=True)]


def channel_misses(found: ReportFigures, channels: Sequence[str]
                   ) -> list[tuple[str, int, int, float | None]]:
    """(channel, breached, met, met %) of the given channels with tickets in the period,
    most breaches first."""
    ranks = []
    for channel in channels:
        if not found.alive.get(channel):
            continue
        met, breached = found.figures.met_breached(channel=channel)
        ranks.append((channel, breached, met, percent(met, breached)))
    ranks.sort(key=lambda rank: (-rank[1], rank[3] or 0.0, rank[0]))
    return ranks


def due_soon(
    session: Session, *, workspace_id: int, channel_id: str | None, now: datetime,
    horizon: timedelta, policies: ChannelPolicies,
) -> int:
    """Running targets not breached that fall due within the next `horizon` of business
    time of their channel."""
    horizons: dict[str, datetime] = {}
    count = 0
    for channel, due in running_due(session=session, workspace_id=workspace_id, after=now,
                                    channel_id=channel_id):
        if channel not in horizons:
            horizons[channel] = policies(channel).calendar.due(now, horizon)
        count += due <= horizons[channel]
    return count
