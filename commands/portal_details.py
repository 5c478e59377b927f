"""The portal's detail pages as typed results: a channel's policy and credits owed, the
responders, one ticket's history.

The numbers come from the functions `/sla report` calls (`commands.report`,
`commands.reporting`); who may see what is decided by the caller (bot/portal/access.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands import lifecycle
from commands.deps import Deps
from commands.errors import NotFound
from commands.report_figures import credit_line
from commands.reporting import counted_breach
from commands.ticket_facts import TicketFacts, load_facts
from sla.compliance import nearest_rank
from sla.periods import Period, month_period
from sla.policy import Policy
from sla.targets import Metric
from storage import repositories as repo
from storage.models import Ticket, stored_id
from storage.repositories import portal_reads
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
class ResponderRow:
    """One person's part in the period."""

    user_id: str
    first_responses: int
    median_first_response: timedelta | None
    resolved: int
    breaches_assigned: int


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
) -> tuple[list[ResponderRow], list[TicketFacts]]:
    """Per person: first responses, median time to first response, resolved, breaches while
    assigned; over the channels given (None: the workspace), optionally one person only."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        workspace_id = stored_id(workspace)
        facts = [
            f for f in load_facts(session=session, workspace_id=workspace_id,
                                  start=period.start, end=period.end, now=now)
            if f.alive_in(period) and (channel_ids is None or f.channel_id in channel_ids)
        ]
        firsts = portal_reads.first_responders(
            session=session, workspace_id=workspace_id,
            keys=[f.key for f in facts
                  if f.first_response_at is not None
                  and period.start <= f.first_response_at < period.end],
        )
        resolutions = portal_reads.ticket_acts(
            session=session, workspace_id=workspace_id, start=period.start, end=period.end,
            kinds=("resolved",),
        )
    visible = {f.key: f for f in facts}
    first_by: dict[str, list[timedelta]] = defaultdict(list)
    for key, (actor, _at) in firsts.items():
        outcome = next((o for o in visible[key].outcomes
                        if o.metric == Metric.FIRST_RESPONSE), None)
        if actor is not None and outcome is not None and outcome.stopped_at is not None:
            first_by[actor].append(outcome.elapsed)
    resolved_sets: dict[str, set[str]] = defaultdict(set)
    for key, _kind, actor in resolutions:
        if key in visible and actor is not None:
            resolved_sets[actor].add(key)  # a ticket resolved twice (reopened) counts once
    resolved_by = {person: len(keys) for person, keys in resolved_sets.items()}
    breaches: dict[str, int] = defaultdict(int)
    for fact in facts:
        for outcome in fact.outcomes:
            if outcome.assignee and counted_breach(outcome, period, now):
                breaches[outcome.assignee] += 1
    people = set(first_by) | set(resolved_by) | set(breaches)
    if only_user is not None:
        people &= {only_user}
        facts = [f for f in facts if any(o.assignee == only_user for o in f.outcomes)]
    rows = [
        ResponderRow(
            user_id=person,
            first_responses=len(first_by.get(person, ())),
            median_first_response=nearest_rank(first_by.get(person, []), 50),
            resolved=resolved_by.get(person, 0),
            breaches_assigned=breaches.get(person, 0),
        )
        for person in people
    ]
    rows.sort(key=lambda r: (-r.first_responses, -r.resolved, r.user_id))
    return rows, facts


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
