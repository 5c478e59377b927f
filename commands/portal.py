"""The portal's pages as typed results, and `/sla portal share|links|revoke` (customer links).

Every number comes from the functions `/sla report` and `/sla status` call
(`commands.report.compliance_report`, `commands.status.open_counts`, `commands.reporting`),
so a page and a verb for the same scope and period cannot disagree. Who may see a scope is
decided by the caller (bot/portal/access.py); these functions only take channel ids.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands.errors import UsageError
from commands.parser import parse_channel
from commands.report import compliance_report
from commands.reporting import (
    Period,
    ReportData,
    ReportError,
    TicketCsvRow,
    TicketFacts,
    build_report,
    counted_breach,
    csv_rows,
    load_facts,
    month_period,
    parse_period,
)
from commands.request import Message, Verb, VerbRequest
from commands.status import OpenCounts, open_counts
from commands.text import channel_mention
from sla.compliance import nearest_rank
from sla.policy import Metric, Policy
from storage import repositories as repo
from storage.repositories import portal_reads
from storage.repositories import share_links as share_repo
from storage.repositories.tickets import list_events

PERIODS = ("7d", "30d", "90d")
TREND_WEEKS = 12
CREDIT_MONTHS = 3
HEADLINE = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION)
DEFAULT_SHARE_DAYS = 90
MAX_SHARE_DAYS = 366
BUSINESS_HORIZON = timedelta(hours=24)
_DAYS = re.compile(r"^\d{1,4}d$")


# --- page data --------------------------------------------------------------------------------


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


def workspace_of(deps: Any, team_id: str) -> tuple[int, str]:
    """The workspace's row id and time zone."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return workspace.id, workspace.tz


def period_of(text: str | None, *, tz: str, now: datetime) -> Period:
    """The period picker's value (7d/30d/90d/YYYY-MM) as `/sla report` reads it."""
    return parse_period(text, tz=tz, now=now)


def known_channels(deps: Any, team_id: str) -> list[str]:
    """Channels with tickets or tracking in the workspace (what the portal can show)."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        return portal_reads.channels_with_tickets(session=session, workspace_id=workspace.id)


def compliance_page(
    deps: Any, *, team_id: str, channel_id: str | None, period: Period,
    ranked_channels: Sequence[str] = (),
) -> CompliancePage:
    """The numbers of `/sla report` and `/sla status` for one channel or the workspace."""
    now = deps.clock.now()
    scope = "all channels" if channel_id is None else f"<#{channel_id}>"
    trend_start = _week_start(now, TREND_WEEKS)
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        tz = workspace.tz
        # One load for the period and the trend; each report keeps the tickets of its span.
        loaded = load_facts(
            session=session, workspace_id=workspace.id, channel_id=channel_id,
            start=min(period.start, trend_start), end=max(period.end, now), now=now,
        )
        report, _all = compliance_report(
            session, workspace_id=workspace.id, channel_id=channel_id, period=period, now=now,
            tz=tz, scope=scope, facts=loaded,
        )
        facts = [f for f in loaded if f.alive_in(period)]
        counts = open_counts(session, workspace_id=workspace.id, channel_id=channel_id, now=now)
        trend_facts = [f for f in loaded if f.created_at < now and (
            f.resolved_at is None or f.resolved_at >= trend_start)]
        open_facts = [f for f in trend_facts if f.resolved_at is None]
        policies: dict[str, Policy] = {}

        def policy_of(channel: str) -> Policy:
            if channel not in policies:
                policies[channel] = repo.get_policy(session=session,
                                                    workspace_id=workspace.id,
                                                    channel_id=channel)
            return policies[channel]

        due_soon = _due_soon(open_facts, policy_of, now)
        titles = portal_reads.ticket_titles(session=session, workspace_id=workspace.id,
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
    deps: Any, *, team_id: str, channel_id: str | None, period: Period
) -> list[TicketFacts]:
    """The tickets `/sla report csv` exports for this scope and period."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        _data, facts = compliance_report(
            session, workspace_id=workspace.id, channel_id=channel_id, period=period, now=now,
            tz=workspace.tz, scope="csv",
        )
    return facts


def policy_view(deps: Any, *, team_id: str, channel_id: str) -> PolicyView:
    """The channel's policy: hours and holidays, targets, nudges, credit tiers."""
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        policy = repo.get_policy(session=session, workspace_id=workspace.id,
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
    deps: Any, *, team_id: str, channel_id: str, months: int = CREDIT_MONTHS
) -> list[MonthCredit]:
    """Credit owed for the current and previous months, as `/sla report YYYY-MM` says."""
    now = deps.clock.now()
    result = []
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        local = now.astimezone(ZoneInfo(workspace.tz))
        year, month = local.year, local.month
        for _ in range(months):
            period = month_period(year, month, tz=workspace.tz)
            data, _facts = compliance_report(
                session, workspace_id=workspace.id, channel_id=channel_id, period=period,
                now=now, tz=workspace.tz, scope=f"<#{channel_id}>",
            )
            if data.credit is not None:
                result.append(MonthCredit(period.label, data.credit.met_percent,
                                          data.credit.credit_percent))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result


def responders(
    deps: Any, *, team_id: str, channel_ids: Sequence[str] | None, period: Period,
    only_user: str | None = None,
) -> tuple[list[ResponderRow], list[TicketFacts]]:
    """Per person: first responses, median time to first response, resolved, breaches while
    assigned; over the channels given (None: the workspace), optionally one person only."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        facts = [
            f for f in load_facts(session=session, workspace_id=workspace.id,
                                  start=period.start, end=period.end, now=now)
            if f.alive_in(period) and (channel_ids is None or f.channel_id in channel_ids)
        ]
        firsts = portal_reads.first_responders(
            session=session, workspace_id=workspace.id,
            keys=[f.key for f in facts
                  if f.first_response_at is not None
                  and period.start <= f.first_response_at < period.end],
        )
        resolutions = portal_reads.ticket_acts(
            session=session, workspace_id=workspace.id, start=period.start, end=period.end,
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
    deps: Any, *, team_id: str, key: str
) -> tuple[Any, list[TimelineEntry], list[DueLine], TicketFacts] | None:
    """A ticket, its history and its metrics' due times; None when there is no such ticket."""
    from commands import lifecycle
    from commands.errors import NotFound

    try:
        result = lifecycle.get_ticket(deps, team_id=team_id, key=key)
    except NotFound:
        return None
    ticket = result.ticket
    with deps.unit_of_work() as session:
        events = [
            TimelineEntry(e.at, e.kind, e.actor_id, e.priority, e.note)
            for e in list_events(session=session, ticket_id=ticket.id)
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
            f for f in load_facts(session=session, workspace_id=workspace.id,
                                  channel_id=ticket.channel_id, start=ticket.created_at,
                                  end=ticket.created_at + timedelta(microseconds=1), now=now)
            if f.key == ticket.key
        ]
    return ticket, events, dues, facts[0]


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


def _due_soon(facts: Sequence[TicketFacts], policies: Any, now: datetime) -> int:
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


# --- customer share links -----------------------------------------------------------------------

SHARE_USAGE = "/sla portal share #channel [expires=90d] [details=on|off]"
LINKS_USAGE = "/sla portal links"
REVOKE_USAGE = "/sla portal revoke N"
USAGE = (SHARE_USAGE, LINKS_USAGE, REVOKE_USAGE)


def token_hash(token: str) -> str:
    """What the database keeps of a share token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SharedChannel:
    """What a live share link opens: one channel, with or without ticket titles."""

    link_id: int
    team_id: str
    channel_id: str
    details: bool
    expires_at: datetime


def open_share_link(deps: Any, token: str) -> SharedChannel | None:
    """The channel a token opens, or None (unknown, revoked or expired: all look the same)."""
    if not token or len(token) > 200:
        return None
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        row = share_repo.find_live_share_link(session=session, token_sha256=token_hash(token),
                                              now=now)
        if row is None:
            return None
        workspace = repo.get_workspace_by_id(session=session, workspace_id=row.workspace_id)
        return SharedChannel(row.id, workspace.team_id, row.channel_id, row.details,
                             row.expires_at)


def handle_portal(request: VerbRequest) -> Message:
    """Dispatch `/sla portal <share|links|revoke>`."""
    if not request.args:
        raise UsageError("say what to do: share, links or revoke", "\n".join(USAGE))
    sub, rest = request.args[0].lower(), request.args[1:]
    handlers = {"share": _share, "links": _links, "revoke": _revoke}
    if sub not in handlers:
        raise UsageError(f"`{request.args[0][:40]}` is not a portal action", "\n".join(USAGE))
    request.require_admin("manage the portal's customer links")
    return handlers[sub](request, rest)


def _portal_settings(request: VerbRequest) -> Any:
    portal = getattr(request.deps.settings, "portal", None)
    if portal is None:
        raise UsageError(
            "the portal is off: set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLABOT_PUBLIC_URL "
            "and SLABOT_SESSION_SECRET (see .env.example) and restart the bot",
            SHARE_USAGE,
        )
    return portal


def _share(request: VerbRequest, args: tuple[str, ...]) -> Message:
    portal = _portal_settings(request)
    channel_id, days, details = None, DEFAULT_SHARE_DAYS, False
    for token in args:
        word = token.lower()
        if word.startswith("expires="):
            value = word.split("=", 1)[1]
            if not _DAYS.match(value) or not 1 <= int(value[:-1]) <= MAX_SHARE_DAYS:
                raise UsageError(f"expires must be 1d to {MAX_SHARE_DAYS}d, like expires=90d",
                                 SHARE_USAGE)
            days = int(value[:-1])
        elif word.startswith("details="):
            value = word.split("=", 1)[1]
            if value not in ("on", "off"):
                raise UsageError("details must be on or off", SHARE_USAGE)
            details = value == "on"
        elif channel_id is None:
            ref = parse_channel(token, SHARE_USAGE)
            if ref.id is None:
                raise UsageError("pick the channel from Slack's list so I get its id",
                                 SHARE_USAGE)
            channel_id = ref.id
        else:
            raise UsageError(f"I did not expect `{token[:40]}` here", SHARE_USAGE)
    if channel_id is None:
        raise UsageError("say which channel to share", SHARE_USAGE)
    token = secrets.token_urlsafe(32)
    now = request.deps.clock.now()
    expires = now + timedelta(days=days)
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = share_repo.add_share_link(
            session=session, workspace_id=workspace.id, channel_id=channel_id,
            token_sha256=token_hash(token), details=details, created_by=request.user_id,
            created_at=now, expires_at=expires,
        )
        number = row.id
    url = f"{portal.public_url}/portal/s/{token}"
    what = "with ticket titles" if details else "without ticket titles"
    text = (
        f":link: Link {number} to {channel_mention(channel_id)}'s SLA compliance, {what}, "
        f"read-only, until {expires:%Y-%m-%d %H:%M} UTC:\n{url}\n"
        f"Anyone with the link can open it; end it with `/sla portal revoke {number}`. "
        "This is the only time the link is shown."
    )
    # The link is a secret: it never goes to the channel, whatever `public` said.
    return Message(text, public=False)


def _links(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if args:
        raise UsageError(f"I did not expect `{args[0][:40]}` here", LINKS_USAGE)
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        rows = share_repo.list_share_links(session=session, workspace_id=workspace.id)
        lines = []
        for row in rows:
            if row.revoked_at is not None:
                state = f"revoked {row.revoked_at:%Y-%m-%d}"
            elif row.expires_at <= now:
                state = f"expired {row.expires_at:%Y-%m-%d}"
            else:
                state = f"live until {row.expires_at:%Y-%m-%d}"
            titles = "titles on" if row.details else "titles off"
            lines.append(f"{row.id}. {channel_mention(row.channel_id)} · {titles} · {state} "
                         f"· by <@{row.created_by}>")
    if not lines:
        return Message("No customer links yet. Make one with `" + SHARE_USAGE + "`.")
    return Message("*Customer links*\n" + "\n".join(lines))


def _revoke(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 12:
        raise UsageError("say which link to end, by its number in `/sla portal links`",
                         REVOKE_USAGE)
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = share_repo.revoke_share_link(session=session, workspace_id=workspace.id,
                                           link_id=int(args[0]), by=request.user_id, now=now)
        if row is None:
            raise UsageError(f"there is no link {args[0]}; see `/sla portal links`",
                             REVOKE_USAGE)
        channel = row.channel_id
    return Message(f":no_entry: Link {args[0]} to {channel_mention(channel)} is ended: "
                   "it opens nothing from now on.")


VERBS = (
    Verb(
        name="portal",
        usage=USAGE,
        summary="customer links to a channel's SLA compliance page (admins)",
        details="`share` answers with a read-only link to the channel's compliance, credits "
        "and trend, valid 90 days unless `expires=` says otherwise; `details=on` shows ticket "
        "titles. `links` lists them, `revoke N` ends one at once.",
        handler=handle_portal,
        admin_only=True,
    ),
)


def parse_period_or_default(text: str | None, *, tz: str, now: datetime) -> Period:
    """The picker's period; a bad value falls back to the default 30 days."""
    try:
        return parse_period(text, tz=tz, now=now)
    except ReportError:
        return parse_period(None, tz=tz, now=now)
