"""`/sla report`: the compliance report with credits owed, responders, and the CSV note."""

from __future__ import annotations

from collections.abc import Iterable

from bot.views.blocks import (
    Block,
    Reply,
    check_block_kit_limits,
    context,
    fields,
    header,
    section,
)
from bot.views.digest import breach_line, list_text
from bot.views.formats import count_tickets, format_business, format_percent, metric_name
from commands.report import ReportResult
from commands.reporting import CreditLine, MetricRow, ReportData
from commands.text import user_mention
from sla.durations import format_business_duration
from sla.responders import ResponderRow

MAX_RESPONDER_ROWS = 15


def render_report(data: ReportData) -> list[Block]:
    """The compliance report: totals, per priority and metric, worst breaches, credit owed."""
    blocks = [
        header("SLA compliance report"),
        context(
            f"{data.scope} · {data.period.label} · {count_tickets(data.ticket_count)} · "
            f"business time, {data.tz}"
        ),
    ]
    if data.ticket_count == 0 and not any(r.met + r.breached for r in data.totals):
        blocks.append(section(f"No SLA tickets in {data.scope} for {data.period.label}."))
        return blocks
    blocks.append(fields([_row_field(row, "All priorities") for row in data.totals]))
    for priority, rows in _by_priority(data.rows):
        blocks.append(fields([_row_field(row, priority) for row in rows]))
    if data.worst:
        blocks.append(section(list_text("*Worst breaches*", data.worst, breach_line)))
    if data.credit is not None:
        blocks.append(section(_credit_text(data.credit)))
    blocks.append(context(data.formula))
    check_block_kit_limits(blocks)
    return blocks


def report_fallback_text(data: ReportData) -> str:
    """Notification / terminal headline for a report."""
    headline = ", ".join(
        f"{metric_name(r.metric)} {format_percent(r.met_percent)}" for r in data.totals
    )
    return f"SLA compliance for {data.scope}, {data.period.label}: {headline or 'no data'}."


def _row_field(row: MetricRow, priority_label: str) -> str:
    target = f" (target {format_business(row.target)})" if row.target is not None else ""
    return (
        f"*{priority_label} · {metric_name(row.metric)}*{target}\n"
        f"{format_percent(row.met_percent)} · {row.met} met, {row.breached} breached\n"
        f"median {format_business(row.median)} · p90 {format_business(row.p90)}"
    )


def _by_priority(rows: Iterable[MetricRow]) -> list[tuple[str, list[MetricRow]]]:
    grouped: dict[str, list[MetricRow]] = {}
    for row in rows:
        grouped.setdefault(row.priority or "All", []).append(row)
    return sorted(grouped.items())


def _credit_text(credit: CreditLine) -> str:
    metric = metric_name(credit.metric).lower()
    if credit.credit_percent is None:
        percent = format_percent(credit.met_percent)
        return f"*Service credit*: none owed ({metric} compliance {percent})."
    return (
        f"*Service credit*: {format_percent(credit.credit_percent)} owed: {metric} compliance "
        f"{format_percent(credit.met_percent)} is below {format_percent(credit.below_percent)}."
    )




def responders_block(rows: Iterable[ResponderRow], *, everyone: bool) -> Block:
    """The responders section: everyone for admins, else only the reader's own row."""
    rows = list(rows)
    title = "*Responders*" if everyone else "*You as a responder* (admins see everyone)"
    if not rows:
        return section(f"{title}\nNo first responses, resolutions or breaches of yours here.")
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


def report_reply(result: ReportResult) -> Reply:
    """`/sla report`: the report, the responders the reader may see, and the CSV note."""
    text = report_fallback_text(result.data)
    blocks = render_report(result.data)
    if result.responders is not None:
        blocks.append(responders_block(result.responders, everyone=result.everyone))
    if result.csv is not None:
        if result.csv.tickets:
            where = "to this channel" if result.csv.to_channel else "to you in a direct message"
            note = f":page_facing_up: CSV of {count_tickets(result.csv.tickets)} sent {where}."
        else:
            note = "No tickets in this period, so no CSV."
        blocks.append(context(note))
        text += " " + note
    return Reply(text, blocks)
