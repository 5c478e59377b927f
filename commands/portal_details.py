"""The portal's detail pages as typed results: a channel's policy and credits owed, the
responders, one ticket's history.

The numbers come from the functions `/sla report` calls (`commands.report`,
`commands.reporting`); who may see what is decided by the caller (bot/portal/access.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands import lifecycle, report
from commands.deps import Deps
from commands.errors import NotFound
from commands.report_figures import credit_line
from commands.ticket_facts import TicketFacts, load_facts
from sla.periods import Period, month_period
from sla.policy import Policy
from sla.responders import ResponderRow
from storage import repositories as repo
from storage.models import Ticket, stored_id
from storage.repositories.ticket_events import list_events

CREDIT_MONTHS = 3


@dataclass(frozen=True)
class PolicyView:
    """A channel's policy in words."""

    hours: str
    targets: tuple[tuple[str, timedelta | None, timedelta | None, timedelta | None], ...]
    nudges: tuple[str, ...]
    reescalate: timedelta | None
    credits: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class MonthCredit:
    """Service credit owed for one calendar month (from the policy's credit tiers)."""

    label: str
    met_percent: float | None
    credit_percent: float | None


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a ticket's history."""

    at: datetime
    kind: str
    actor_id: str | None
    priority: str | None
    note: str | None


@dataclass(frozen=True)
class DueLine:
    """One metric of a ticket: target, due, stopped, elapsed, state."""

    metric: str
    target: timedelta
    due_at: datetime | None
    stopped_at: datetime | None
    elapsed: timedelta
    state: str


def policy_view(deps: Deps, *, team_id: str, channel_id: str) -> PolicyView:
    """The channel's policy: hours and holidays, targets, nudges, credit tiers."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        policy = repo.get_policy(session=session, workspace_id=stored_id(workspace),
                                 channel_id=channel_id)
    return _policy_view(policy)


def _policy_view(policy: Policy) -> PolicyView:
    nudges = []
    for rule in policy.nudges:
        label = "breach" if rule.fraction >= 1 else f"{round(rule.fraction * 100):g}%"
        nudges.append(f"{label} to " + ", ".join(sorted(str(a) for a in rule.audiences)))
    return PolicyView(
        hours=policy.calendar.describe(),
        targets=tuple(
            (p.value, t.first_response, t.resolution, t.next_response)
            for p, t in policy.targets.items()
        ),
        nudges=tuple(nudges),
        reescalate=policy.reescalate_every,
        credits=tuple((t.below_percent, t.credit_percent) for t in policy.credit_tiers),
    )


def monthly_credits(
    deps: Deps, *, team_id: str, channel_id: str, months: int = CREDIT_MONTHS
) -> list[MonthCredit]:
    """Credit owed for the current and previous months, as `/sla report YYYY-MM` says."""
    now = deps.clock.now()
    result = []
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        workspace_id = stored_id(workspace)
        policy = repo.get_policy(session=session, workspace_id=workspace_id,
                                 channel_id=channel_id)
        local = now.astimezone(ZoneInfo(workspace.tz))
        year, month = local.year, local.month
        for _ in range(months):
            period = month_period(year, month, tz=workspace.tz)
            summary = repo.compliance_counts(
                session=session, workspace_id=workspace_id, channel_id=channel_id,
                start=period.start, end=period.end, now=now)
            credit = credit_line(summary, policy)
            if credit is not None:
                result.append(MonthCredit(period.label, credit.met_percent,
                                          credit.credit_percent))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result


def responders(
    deps: Deps, *, team_id: str, channel_ids: Sequence[str] | None, period: Period,
    only_user: str | None = None,
) -> list[ResponderRow]:
    """Per person: first responses, median time to first response, resolved, breaches while
    assigned; over the channels given (None: the workspace), optionally one person only.
    The numbers of `/sla report` (`commands.report.responders`)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return report.responders(session, workspace_id=stored_id(workspace),
                                 channel_ids=channel_ids, period=period, now=now,
                                 only_user=only_user)


def ticket_page(
    deps: Deps, *, team_id: str, key: str
) -> tuple[Ticket, list[TimelineEntry], list[DueLine], TicketFacts] | None:
    """A ticket, its history and its metrics' due times; None when there is no such ticket."""
    try:
        result = lifecycle.get_ticket(deps, team_id=team_id, key=key)
    except NotFound:
        return None
    ticket = result.ticket
    with deps.unit_of_work() as session:
        events = [
            TimelineEntry(e.at, e.kind, e.actor_id, e.priority, e.note)
            for e in list_events(session=session, ticket_id=stored_id(ticket))
        ]
    dues = [
        DueLine(str(m.metric), m.target, m.due_at, m.stopped_at, m.elapsed, str(m.state))
        for m in result.clock.metrics.values()
    ]
    # The ticket's CSV row, built by the same code as `/sla report csv`.
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        facts = [
            f for f in load_facts(session=session, workspace_id=stored_id(workspace),
                                  channel_id=ticket.channel_id, start=ticket.created_at,
                                  end=ticket.created_at + timedelta(microseconds=1), now=now)
            if f.key == ticket.key
        ]
    return ticket, events, dues, facts[0]
