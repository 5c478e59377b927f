"""`/sla report [7d|30d|90d|YYYY-MM] [csv] [all]`: the compliance report, with credits owed.

A channel sees only its own tickets; `all` (the whole workspace) is for admins. The CSV goes
to the asking user's direct messages, unless `public` asks for it in the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands.digest_view import count_tickets, render_report, report_fallback_text
from commands.errors import UsageError
from commands.permissions import is_admin
from commands.report_csv import csv_rows, tickets_csv
from commands.reporting import ReportData, build_report
from commands.request import Reply, Verb, VerbRequest
from commands.text import user_mention
from commands.ticket_facts import TicketFacts, load_facts
from sla.durations import format_business_duration
from sla.periods import Period, PeriodError, parse_period
from sla.policy import Policy
from sla.responders import ResponderRow, responder_rows
from storage import repositories as repo
from storage.repositories.histories import load_period_tickets

USAGE = "/sla report [7d|30d|90d|YYYY-MM] [csv] [all]"


@dataclass(frozen=True)
class ReportArgs:
    """What `/sla report` was asked for."""

    period: str | None = None
    csv: bool = False
    workspace: bool = False


def parse_report_args(args: tuple[str, ...]) -> ReportArgs:
    """Read the optional period, `csv` and `all` words in any order."""
    period, want_csv, workspace = None, False, False
    for token in args:
        word = token.lower()
        if word == "csv":
            want_csv = True
        elif word == "all":
            workspace = True
        elif period is None:
            period = word
        else:
            raise UsageError(f"I did not expect `{token}` here", USAGE)
    return ReportArgs(period, want_csv, workspace)


def compliance_report(
    session: Any,
    *,
    workspace_id: int,
    channel_id: str | None,
    period: Period,
    now: datetime,
    tz: str,
    scope: str,
    facts: list[TicketFacts] | None = None,
) -> tuple[ReportData, list[TicketFacts]]:
    """The report of one channel (or the workspace, `channel_id` None) and its tickets.

    `facts` may be tickets loaded for a wider span (the portal's trend needs 12 weeks):
    the report counts only those alive in `period`, exactly as if loaded for it alone.
    """
    if facts is None:
        facts = load_facts(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            start=period.start, end=period.end, now=now,
        )
    policy = repo.get_policy(session=session, workspace_id=workspace_id, channel_id=channel_id)
    data = build_report(
        facts, period=period, now=now, scope=scope, tz=tz, credit_tiers=policy.credit_tiers
    )
    return data, facts


def responders(
    session: Any, *, workspace_id: int, channel_id: str | None, period: Period, now: datetime
) -> list[ResponderRow]:
    """Per person figures of the period (sla.responders over the stored histories)."""
    tickets = load_period_tickets(session=session, workspace_id=workspace_id,
                                  channel_id=channel_id, start=period.start, end=period.end)
    policies: dict[str, Policy] = {}
    for channel in {t.channel_id for t in tickets}:
        policies[channel] = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=channel
        )
    return responder_rows(
        ((t.responder_ticket(), policies[t.channel_id]) for t in tickets),
        period.start, period.end, now,
    )


MAX_RESPONDER_ROWS = 15


def responders_block(rows: list[ResponderRow], *, everyone: bool) -> dict[str, Any]:
    """The responders section: everyone for admins, else only the reader's own row."""
    title = "*Responders*" if everyone else "*You as a responder* (admins see everyone)"
    if not rows:
        return {"type": "section", "text": {"type": "mrkdwn", "text":
                f"{title}\nNo first responses, resolutions or breaches of yours here."}}
    lines = [title]
    for row in rows[:MAX_RESPONDER_ROWS]:
        median = (f", median {format_business_duration(row.median_first_response)}"
                  if row.median_first_response is not None else "")
        breaches = row.breaches_assigned
        lines.append(
            f"{user_mention(row.user_id)} · {row.first_responses} first "
            f"response{'s' if row.first_responses != 1 else ''}{median} · "
            f"{row.resolutions} resolved · {breaches} breach{'es' if breaches != 1 else ''} "
            "while assigned"
        )
    if len(rows) > MAX_RESPONDER_ROWS:
        lines.append(f"… and {len(rows) - MAX_RESPONDER_ROWS} more people")
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}


def handle_report(request: VerbRequest) -> Reply:
    """Compliance of this channel (or all, for admins) over a period; optional CSV upload."""
    args = parse_report_args(request.args)
    if args.workspace:
        request.require_admin("see the whole workspace's report")
    channel_id = None if args.workspace else request.channel_id
    scope = "all channels" if channel_id is None else f"<#{channel_id}>"
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        try:
            period = parse_period(args.period, tz=workspace.tz, now=now)
        except PeriodError as exc:
            raise UsageError(str(exc), USAGE) from None
        data, facts = compliance_report(
            session, workspace_id=workspace.id, channel_id=channel_id, period=period, now=now,
            tz=workspace.tz, scope=scope,
        )
        people = responders(session, workspace_id=workspace.id, channel_id=channel_id,
                            period=period, now=now)
    text = report_fallback_text(data)
    blocks = render_report(data)
    # Who may see whom is asked of Slack (users.info): after the unit of work, never in it.
    admin = args.workspace or is_admin(request.deps, request.user_id)
    shown = people if admin else [r for r in people if r.user_id == request.user_id]
    if people:
        blocks.append(responders_block(shown, everyone=admin))
    if args.csv:
        rows = csv_rows(facts, period=period)
        if rows:
            where = _upload_csv(request, tickets_csv(rows), period, len(rows))
            note = f":page_facing_up: CSV of {count_tickets(len(rows))} sent {where}."
        else:
            note = "No tickets in this period, so no CSV."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        text += " " + note
    return Reply(text=text, blocks=blocks)


def _upload_csv(request: VerbRequest, content: str, period: Period, count: int) -> str:
    notifier = request.deps.notifier
    if request.public:
        channel, where = request.channel_id, "to this channel"
    else:
        # Ticket details stay private unless asked otherwise: the CSV goes to the user's DMs.
        opened = notifier.client.conversations_open(users=[request.user_id])
        channel, where = opened["channel"]["id"], "to you in a direct message"
    slug = period.label.lower().replace(" ", "-")
    notifier.upload_file(
        channel,
        content,
        f"sla-report-{slug}.csv",
        title=f"SLA tickets, {period.label} ({count})",
    )
    return where


VERBS = (
    Verb(
        name="report",
        usage=(USAGE,),
        summary="compliance report: per priority and metric, worst breaches, credit owed",
        details="The period is the last 7, 30 or 90 days, or a calendar month like 2026-10 "
        "in the workspace's time zone (default 30d). `csv` sends you a CSV of every ticket "
        "in the period. `all` covers the whole workspace and is for admins.",
        handler=handle_report,
    ),
)
