"""`/sla status [7d|30d|90d]` for this channel and `/sla status all` for the workspace (admins).

A channel only ever sees its own tickets: the channel id scopes every query, so nothing from
another (possibly private) channel can leak into the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from commands.errors import UsageError
from commands.forecasts import FORECAST_HOURS, breach_forecast
from commands.parser import clip
from commands.request import Result, Verb, VerbRequest
from sla.compliance import ComplianceSummary
from sla.forecast import Forecast
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories.ticket_counts import count_open_tickets

USAGE = "/sla status [7d|30d|90d] [all]"


@dataclass(frozen=True)
class OpenCounts:
    """Tickets open right now, at risk, and past an SLA target (not metrics: tickets)."""

    open: int
    at_risk: int
    breached: int


@dataclass(frozen=True)
class StatusResult(Result):
    """Compliance of a channel (`channel_id`) or the workspace (None) over the last `days`
    days, today's counts, and for a channel the breach forecast."""

    summary: ComplianceSummary
    counts: OpenCounts
    channel_id: str | None
    days: int
    forecast: Forecast | None = None


# -- grammar ----------------------------------------------------------------------------------


STATUS_PERIODS = {"7d": 7, "30d": 30, "90d": 90}


@dataclass(frozen=True)
class StatusArgs:
    """`status [7d|30d|90d] [all]`."""

    days: int = 7
    workspace: bool = False


def parse_status(args: tuple[str, ...], usage: str) -> StatusArgs:
    """Read the period (default 7 days) and the `all` switch (whole workspace)."""
    days, workspace, seen_period = 7, False, False
    for token in args:
        word = token.lower()
        if word == "all" and not workspace:
            workspace = True
        elif word in STATUS_PERIODS and not seen_period:
            days, seen_period = STATUS_PERIODS[word], True
        else:
            raise UsageError(f"`{clip(token)}` is not a period: use 7d, 30d or 90d", usage)
    return StatusArgs(days=days, workspace=workspace)


def open_counts(
    session: Session, *, workspace_id: int, channel_id: str | None, now: datetime
) -> OpenCounts:
    """Tickets open now, at risk and breached, counted exactly as `/sla list` selects them."""
    counts = count_open_tickets(
        session=session, workspace_id=workspace_id, channel_id=channel_id, now=now
    )
    return OpenCounts(open=counts.open, at_risk=counts.at_risk, breached=counts.breached)


def compliance(
    session: Session, *, workspace_id: int, channel_id: str | None, days: int, now: datetime
) -> tuple[ComplianceSummary, OpenCounts]:
    """The last `days` days' compliance summary (SQL aggregates equal to sla.compliance) and
    today's open / at-risk / breached ticket counts."""
    summary = repo.compliance_counts(
        session=session, workspace_id=workspace_id, channel_id=channel_id,
        start=now - timedelta(days=days), end=now, now=now,
    )
    counts = open_counts(session, workspace_id=workspace_id, channel_id=channel_id, now=now)
    return summary, counts


def handle_status(request: VerbRequest) -> StatusResult:
    """Compliance for this channel, or for the workspace with `all` (admins only)."""
    parsed = parse_status(request.args, USAGE)
    if parsed.workspace:
        request.require_admin("see the whole workspace's status")
    channel_id = None if parsed.workspace else request.channel_id
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        summary, counts = compliance(
            session, workspace_id=stored_id(workspace), channel_id=channel_id, days=parsed.days,
            now=now,
        )
        # One channel has one calendar; the workspace view has many, so no forecast there.
        ahead = None if channel_id is None else breach_forecast(
            session, workspace_id=stored_id(workspace), channel_id=channel_id, now=now
        )
    return StatusResult(summary, counts, channel_id, parsed.days, ahead)


VERBS = (
    Verb(
        name="status",
        usage=(USAGE,),
        summary="compliance for this channel: open, at risk, breached, met % and trend",
        details="Met % is met / (met + breached) over targets that stopped in the period, "
        "plus open tickets already past a target. Median and p90 are business time. "
        "The forecast estimates which waiting tickets will breach in the next "
        f"{FORECAST_HOURS} business hours from the team's answers per business hour here "
        "(last 4 weeks, by hour of the week), answering the earliest due first. "
        "`all` covers the whole workspace and is for admins.",
        handler=handle_status,
    ),
)
