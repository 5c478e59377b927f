"""`/sla report [7d|30d|90d|YYYY-MM] [csv] [all]`: the compliance report, with credits owed.

A channel sees only its own tickets; `all` (the whole workspace) is for admins. The CSV goes
to the asking user's direct messages, unless `public` asks for it in the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from commands.errors import UsageError
from commands.parser import parse_period_arg
from commands.permissions import is_admin
from commands.report_csv import csv_rows, tickets_csv
from commands.report_figures import report_figures
from commands.reporting import ReportData
from commands.request import Result, Verb, VerbRequest
from commands.ticket_facts import load_facts
from sla.periods import Period
from sla.responders import ResponderRow
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories.responder_reads import responder_figures

USAGE = "/sla report [7d|30d|90d|YYYY-MM] [csv] [all]"


@dataclass(frozen=True)
class ReportArgs:
    """What `/sla report` was asked for."""

    period: str | None = None
    csv: bool = False
    workspace: bool = False


@dataclass(frozen=True)
class CsvSent:
    """What `/sla report csv` did: how many tickets the file holds (0: no file) and whether
    it went to the channel (else to the asker's direct messages)."""

    tickets: int
    to_channel: bool = False


@dataclass(frozen=True)
class ReportResult(Result):
    """The report; the responders the reader may see (None: nobody responded in the period),
    all of them or only the reader's own row; and the CSV, when asked for."""

    data: ReportData
    responders: tuple[ResponderRow, ...] | None
    everyone: bool
    csv: CsvSent | None = None


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
    session: Session,
    *,
    workspace_id: int,
    channel_id: str | None,
    period: Period,
    now: datetime,
    tz: str,
    scope: str,
) -> ReportData:
    """The report of one channel (or the workspace, `channel_id` None), from the rollups."""
    return report_figures(session, workspace_id=workspace_id, channel_id=channel_id,
                          period=period, now=now, tz=tz, scope=scope).data


def responders(
    session: Session, *, workspace_id: int, channel_ids: Sequence[str] | None, period: Period,
    now: datetime, only_user: str | None = None,
) -> list[ResponderRow]:
    """Per person figures of the period by `sla.responders`' rules, over the channels given
    (None: the workspace), optionally one person only: what `/sla report` and the portal's
    responders page show, read from the responder rollups."""
    return responder_figures(session=session, workspace_id=workspace_id, start=period.start,
                             end=period.end, now=now, channel_ids=channel_ids,
                             user_id=only_user)


def handle_report(request: VerbRequest) -> ReportResult:
    """Compliance of this channel (or all, for admins) over a period; optional CSV upload."""
    args = parse_report_args(request.args)
    if args.workspace:
        request.require_admin("see the whole workspace's report")
    channel_id = None if args.workspace else request.channel_id
    scope = "all channels" if channel_id is None else f"<#{channel_id}>"
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        period = parse_period_arg(args.period, tz=workspace.tz, now=now, usage=USAGE)
        data = compliance_report(
            session, workspace_id=workspace_id, channel_id=channel_id, period=period, now=now,
            tz=workspace.tz, scope=scope,
        )
        people = responders(session, workspace_id=workspace_id,
                            channel_ids=None if channel_id is None else [channel_id],
                            period=period, now=now)
        facts = load_facts(session=session, workspace_id=workspace_id, channel_id=channel_id,
                           start=period.start, end=period.end, now=now) if args.csv else []
    # Who may see whom is asked of Slack (users.info): after the unit of work, never in it.
    admin = args.workspace or is_admin(request.deps, request.user_id)
    shown = people if admin else [r for r in people if r.user_id == request.user_id]
    sent = None
    if args.csv:
        rows = csv_rows(facts, period=period)
        if rows:
            _upload_csv(request, tickets_csv(rows), period, len(rows))
        sent = CsvSent(len(rows), to_channel=request.public)
    return ReportResult(data, tuple(shown) if people else None, admin, sent)


def _upload_csv(request: VerbRequest, content: str, period: Period, count: int) -> None:
    notifier = request.deps.notifier
    # Ticket details stay private unless asked otherwise: the CSV goes to the user's DMs.
    channel = request.channel_id if request.public else notifier.open_dm(request.user_id)
    slug = period.label.lower().replace(" ", "-")
    notifier.upload_file(
        channel,
        content,
        f"sla-report-{slug}.csv",
        title=f"SLA tickets, {period.label} ({count})",
    )


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
