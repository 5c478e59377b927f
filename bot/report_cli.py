"""`slabot report`: the compliance report in the terminal, read straight from the database.

For people who are not in Slack: the same numbers as `/sla report` (commands.report), printed
as a plain table, with the service credit owed and optionally a CSV of every ticket.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from sqlmodel import Session

    from commands.report_csv import TicketCsvRow
    from commands.reporting import MetricRow, ReportData
    from storage.models import Workspace

EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `slabot report`."""
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--month", metavar="YYYY-MM", help="a calendar month in the workspace zone")
    period.add_argument("--days", metavar="N", help="the last N days, 1 to 366, like /sla "
                        "report's 7d, 30d, 90d (default 30)")
    parser.add_argument("--channel", metavar="C", help="a channel id (C0123) or tracked #name; "
                        "default: every channel")
    parser.add_argument("--csv", metavar="FILE", type=Path,
                        help="also write every ticket of the period to FILE as CSV")
    parser.add_argument("--team", metavar="T", help="Slack team id (needed when the database "
                        "holds several workspaces)")
    parser.add_argument("--database-url", help="default: DATABASE_URL or sqlite:///slabot.db")


def run(args: argparse.Namespace, *, now: datetime | None = None, out: TextIO | None = None) -> int:
    """Print the report; exit code 2 with one clear line for bad arguments."""
    out = out or sys.stdout
    now = now or datetime.now(UTC)
    url = args.database_url or _database_url()
    period_text = args.month or _days_period(args.days)
    # Bad arguments are named first, whatever state the database is in.
    problem = _argument_problem(args, period_text, now) or _database_problem(url)
    if problem is not None:
        return _fail(problem)
    found = _read_report(url, args, period_text, now)
    if isinstance(found, str):
        return _fail(found)
    data, rows = found
    out.write(render_text(data))
    if args.csv is not None:
        from commands.report_csv import tickets_csv

        args.csv.write_text(tickets_csv(rows), encoding="utf-8")
        out.write(f"\nWrote {len(rows)} tickets to {args.csv}\n")
    return 0


def _argument_problem(args: argparse.Namespace, period_text: str | None,
                      now: datetime) -> str | None:
    from sla.periods import MAX_PERIOD_DAYS, PeriodError, parse_period

    try:
        parse_period(period_text, tz="UTC", now=now)
    except PeriodError as exc:
        if args.days is not None:
            return (f"--days must be a number of days from 1 to {MAX_PERIOD_DAYS} "
                    f"(or use --month YYYY-MM), got {args.days!r:.40}")
        return str(exc)
    return None


def _database_problem(url: str) -> str | None:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.migrate import current_revision

    try:
        revision = current_revision(url)
    except SQLAlchemyError as exc:
        # Driver messages never contain the password; only their first line is useful here.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot open the database: {reason}"
    if revision is None:
        # Without this the first query dies with "no such table" and a traceback.
        return "the database has no tables yet: run `slabot migrate` first"
    return None


def _read_report(url: str, args: argparse.Namespace, period_text: str | None,
                 now: datetime) -> tuple[ReportData, list[TicketCsvRow]] | str:
    """The report and its CSV rows, or why there is none (an unknown team or channel)."""
    from commands.report import compliance_report
    from commands.report_csv import csv_rows
    from commands.ticket_facts import load_facts
    from sla.periods import PeriodError, parse_period
    from storage.db import make_engine, unit_of_work
    from storage.models import stored_id

    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            workspace = _workspace(session, args.team)
            if isinstance(workspace, str):
                return workspace
            workspace_id = stored_id(workspace)
            channel_id = _channel_id(session, workspace_id, args.channel)
            if channel_id is None and args.channel:
                return _unknown_channel(session, workspace_id, args.channel)
            try:
                period = parse_period(period_text, tz=workspace.tz, now=now)
            except PeriodError as exc:
                return str(exc)
            scope = f"channel {args.channel}" if channel_id else "all channels"
            data = compliance_report(
                session, workspace_id=workspace_id, channel_id=channel_id, period=period,
                now=now, tz=workspace.tz, scope=scope,
            )
            # The numbers come from the rollups; only a CSV reads the period's tickets.
            facts = load_facts(session=session, workspace_id=workspace_id,
                               channel_id=channel_id, start=period.start, end=period.end,
                               now=now) if args.csv is not None else []
    finally:
        engine.dispose()
    return data, csv_rows(facts, period=period)


def render_text(data: ReportData) -> str:
    """The report as a plain-text table for a terminal."""
    from bot.views.formats import format_business, format_percent, metric_name

    lines = [
        f"SLA compliance report: {data.scope}, {data.period.label} ({data.tz})",
        f"{data.ticket_count} tickets; times are business time.",
        "",
    ]
    rows = [*data.totals, *data.rows]
    if not any(r.met + r.breached for r in data.totals):
        lines.append("No SLA targets met or breached in this period.")
    else:
        header = ("Priority", "Metric", "Target", "Met", "Breached", "Met %", "Median", "p90")
        table = [header, *(_cells(row) for row in rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for cells in table:
            padded = [
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            lines.append("  ".join(padded).rstrip())
    if data.worst:
        lines += ["", "Worst breaches:"]
        lines += [
            f"  {b.ticket_key}  {b.priority} {metric_name(b.metric).lower()}, "
            f"{format_business(b.over_by)} over, channel {b.channel_id}"
            + (f"  {b.link}" if b.link else "")
            for b in data.worst
        ]
    if data.credit is not None:
        metric = metric_name(data.credit.metric).lower()
        percent = format_percent(data.credit.met_percent)
        if data.credit.credit_percent is None:
            lines += ["", f"Service credit: none owed ({metric} compliance {percent})."]
        else:
            lines += ["", f"Service credit: {format_percent(data.credit.credit_percent)} owed "
                      f"({metric} compliance {percent} is below "
                      f"{format_percent(data.credit.below_percent)})."]
    lines += ["", data.formula, ""]
    return "\n".join(lines)


def _cells(row: MetricRow) -> tuple[str, ...]:
    from bot.views.formats import format_business, format_percent, metric_name

    return (
        row.priority or "All",
        metric_name(row.metric),
        format_business(row.target) if row.target is not None else "-",
        str(row.met),
        str(row.breached),
        format_percent(row.met_percent),
        format_business(row.median),
        format_business(row.p90),
    )


def _workspace(session: Session, team: str | None) -> Workspace | str:
    from storage.repositories.workspaces import get_workspace, list_workspaces

    if team:
        return get_workspace(session=session, team_id=team) or f"no workspace with team id {team}"
    workspaces = list_workspaces(session=session)
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        return "the database has no workspace yet: run the bot in Slack first"
    teams = ", ".join(w.team_id for w in workspaces)
    return f"the database holds several workspaces ({teams}): pick one with --team"


def _channel_id(session: Session, workspace_id: int, channel: str | None) -> str | None:
    """The id of a channel given by id or #name: a tracked channel (by the name stored when it
    was tracked, or its name in Slack now), or any channel with tickets, given by id."""
    from storage.repositories.tickets import newest_message_ts
    from storage.repositories.workspaces import list_tracked_channels

    if not channel:
        return None
    wanted = channel.strip().lstrip("#")
    tracked = list_tracked_channels(session=session, workspace_id=workspace_id)
    for row in tracked:
        if wanted == row.channel_id or wanted.lower() == (row.name or "").lower():
            return row.channel_id
    if newest_message_ts(session=session, workspace_id=workspace_id, channel_id=wanted):
        return wanted  # untracked now, but it has tickets: an id is taken as given
    # Renamed since it was tracked: ask Slack for the names now (when the bot's token is set).
    current = _names_in_slack([row.channel_id for row in tracked])
    return next((cid for cid, name in current.items() if name.lower() == wanted.lower()), None)


def _names_in_slack(channel_ids: list[str]) -> dict[str, str]:
    from slack_sdk.errors import SlackApiError

    from bot.config import SettingsError, SlackApiSettings
    from commands.slack_notifier import build_client

    try:
        slack = SlackApiSettings.from_env()
    except SettingsError:  # an unusable SLACK_API_URL: the names stay unknown
        return {}
    if not slack.slack_bot_token or not channel_ids:
        return {}
    client = build_client(slack.slack_bot_token, slack.slack_api_url)
    names: dict[str, str] = {}
    for channel_id in channel_ids:
        try:
            names[channel_id] = client.conversations_info(channel=channel_id)["channel"]["name"]
        except (SlackApiError, OSError, KeyError):
            continue
    return names


def _unknown_channel(session: Session, workspace_id: int, channel: str) -> str:
    from storage.repositories.workspaces import list_tracked_channels

    known = ", ".join(f"#{row.name} ({row.channel_id})" if row.name else row.channel_id
                      for row in list_tracked_channels(session=session,
                                                       workspace_id=workspace_id))
    return (f"no channel {channel.strip()[:40]!r} with tickets in this workspace; "
            f"give a tracked channel's id or #name ({known or 'none is tracked yet'})")


def _days_period(days: str | None) -> str | None:
    """`--days 14` or `--days 14d` as `/sla report` writes it (`14d`); None for the default."""
    if days is None:
        return None
    text = days.strip().lower()
    return text if text.endswith("d") else f"{text}d"


def _database_url() -> str:
    from bot.cli import load_database_url

    return load_database_url()


def _fail(message: str) -> int:
    print(f"slabot report: {message}", file=sys.stderr)
    return EXIT_USAGE


__all__ = ["configure", "render_text", "run"]
