"""`/sla status [7d|30d|90d]` for this channel and `/sla status all` for the workspace (admins).

A channel only ever sees its own tickets: the channel id scopes every query, so nothing from
another (possibly private) channel can leak into the answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.parser import parse_status
from commands.render import OpenCounts, render_status
from commands.request import Reply, Verb, VerbRequest
from sla.compliance import ComplianceSummary
from storage import repositories as repo
from storage.repositories.ticket_counts import count_open_tickets

USAGE = "/sla status [7d|30d|90d] [all]"


def open_counts(
    session, *, workspace_id: int, channel_id: str | None, now: datetime
) -> OpenCounts:
    """Tickets open now, at risk and breached, counted exactly as `/sla list` selects them."""
    counts = count_open_tickets(
        session=session, workspace_id=workspace_id, channel_id=channel_id, now=now
    )
    return OpenCounts(open=counts.open, at_risk=counts.at_risk, breached=counts.breached)


def compliance(
    session, *, workspace_id: int, channel_id: str | None, days: int, now: datetime
) -> tuple[ComplianceSummary, OpenCounts]:
    """The last `days` days' compliance summary (SQL aggregates equal to sla.compliance) and
    today's open / at-risk / breached ticket counts."""
    summary = repo.compliance_counts(
        session=session, workspace_id=workspace_id, channel_id=channel_id,
        start=now - timedelta(days=days), end=now, now=now,
    )
    counts = open_counts(session, workspace_id=workspace_id, channel_id=channel_id, now=now)
    return summary, counts


def handle_status(request: VerbRequest) -> Reply:
    """Compliance for this channel, or for the workspace with `all` (admins only)."""
    parsed = parse_status(request.args, USAGE)
    if parsed.workspace:
        request.require_admin("see the whole workspace's status")
    channel_id = None if parsed.workspace else request.channel_id
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        summary, counts = compliance(
            session, workspace_id=workspace.id, channel_id=channel_id, days=parsed.days, now=now
        )
    return render_status(summary, counts, channel_id=channel_id, days=parsed.days)


VERBS = (
    Verb(
        name="status",
        usage=(USAGE,),
        summary="compliance for this channel: open, at risk, breached, met % and trend",
        details="Met % is met / (met + breached) over targets that stopped in the period, "
        "plus open tickets already past a target. Median and p90 are business time. "
        "`all` covers the whole workspace and is for admins.",
        handler=handle_status,
    ),
)
