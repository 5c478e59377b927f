"""The weekly digest (with its chart) and `/sla report`: Block Kit from their numbers.

Slack rejects a message over its Block Kit limits, so every list is capped (bot/views/blocks.py
states the limits the tests hold the output to).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.views.blocks import (
    Block,
    Reply,
    check_block_kit_limits,
    context,
    fields,
    header,
    list_text,
    section,
)
from bot.views.charts import render_compliance_chart
from bot.views.forecast import channel_lines
from bot.views.formats import count_tickets, format_business, format_percent, metric_name
from commands.charts import DailyCompliance
from commands.digest import DigestPreview
from commands.digest_insight import NearMissRow
from commands.forecasts import FORECAST_HOURS
from commands.report import ReportResult
from commands.reporting import (
    AtRiskRow,
    BreachRow,
    CreditLine,
    DigestData,
    MetricRow,
    MetricTrend,
    MissGroup,
    ReportData,
)
from commands.text import channel_mention, escape_mrkdwn, user_mention
from commands.text import link as link_to
from sla.breach import NEAR_MISS_FRACTION
from sla.durations import format_business_duration
from sla.responders import ResponderRow

T = TypeVar("T")
MAX_LIST_ITEMS = 10  # breaches / at-risk lines shown before "and N more"
MAX_RESPONDER_ROWS = 15
MAX_NEAR_MISSES = 5  # a few examples; the count says how many


def render_digest(data: DigestData) -> list[Block]:
    """The weekly digest message; an empty week is a single line."""
    if data.empty:
        return [section(digest_fallback_text(data))]
    blocks = [
        header("Weekly SLA digest"),
        context(f"{data.scope} · {data.period.label} · business time, {data.tz}"),
        fields(
            [_trend_field(m) for m in data.metrics]
            + [
                f"*Tickets*\n{data.opened} opened · {data.resolved} resolved",
                "*Median / p90*\n"
                + "\n".join(
                    f"{metric_name(m.metric)}: {format_business(m.median)} / "
                    f"{format_business(m.p90)}"
                    for m in data.metrics
                ),
            ]
        ),
    ]
    blocks += _list_blocks(data)
    blocks.append(
        context(
            f"Met % = met / (met + breached) of metrics that stopped in the week, plus running "
            f"ones already breached. Goal {format_percent(data.goal_percent)}."
        )
    )
    check_block_kit_limits(blocks)
    return blocks


def _list_blocks(data: DigestData) -> list[Block]:
    """Breaches with their causes, near misses, what missed most, at risk now, forecast."""
    blocks = [section(
        _list_text(f"*Breaches* ({len(data.breaches)})", data.breaches, _breach_line)
        if data.breaches else "*Breaches*: none :tada:"
    )]
    if data.near_misses:
        title = (f"*Near misses* ({len(data.near_misses)}): met with under "
                 f"{NEAR_MISS_FRACTION:.0%} of the target left")
        blocks.append(section(list_text(title, [_near_miss_line(r) for r in data.near_misses],
                                        max_items=MAX_NEAR_MISSES)))
    missed = _missed_text(data.channels_missed, data.priorities_missed)
    if missed:
        blocks.append(section(missed))
    if data.at_risk:
        blocks.append(section(_list_text(f"*At risk now* ({len(data.at_risk)})", data.at_risk,
                                         lambda row: _at_risk_line(row, data.tz))))
    if data.forecasts:
        title = (f"*Likely to breach in the next {FORECAST_HOURS} business hours* "
                 "(an estimate, from now)")
        blocks.append(section(list_text(title, channel_lines(data.forecasts),
                                        max_items=MAX_LIST_ITEMS)))
    return blocks


def digest_fallback_text(data: DigestData) -> str:
    """Notification text for the digest (also the whole message for an empty week)."""
    if data.empty:
        return f"No SLA tickets in {data.scope} last week ({data.period.label})."
    headline = ", ".join(
        f"{metric_name(m.metric)} {format_percent(m.met_percent)}" for m in data.metrics
    )
    return f"Weekly SLA digest for {data.scope}, {data.period.label}: {headline}."


def _trend_field(trend: MetricTrend) -> str:
    return (
        f"*{metric_name(trend.metric)}*\n"
        f"{format_percent(trend.met_percent)} met {_trend_arrow(trend)}\n"
        f"{trend.met} met · {trend.breached} breached"
    )


def _trend_arrow(trend: MetricTrend) -> str:
    delta = trend.delta_points
    if delta is None:
        return "(no data the week before)" if trend.previous_percent is None else ""
    # Half a point is noise on a weekly sample, so it reads as flat.
    if delta >= 0.5:
        arrow = "↑"
    elif delta <= -0.5:
        arrow = "↓"
    else:
        arrow = "→"
    return f"{arrow} {_signed_points(delta)} (was {format_percent(trend.previous_percent)})"


def _missed_text(channels: Sequence[MissGroup], priorities: Sequence[MissGroup]) -> str:
    lines = []
    if channels:
        lines.append("Channels: " + ", ".join(_miss(channel_mention(g.name), g) for g in channels))
    if priorities:
        lines.append("Priorities: " + ", ".join(_miss(g.name, g) for g in priorities))
    return "*Missed most*\n" + "\n".join(lines) if lines else ""


def _miss(name: str, group: MissGroup) -> str:
    noun = "breach" if group.breached == 1 else "breaches"
    return f"{name} {group.breached} {noun} ({format_percent(group.met_percent)} met)"


def _at_risk_line(row: AtRiskRow, tz: str) -> str:
    when = ""
    if row.due_at is not None:
        when = f" ({row.due_at.astimezone(ZoneInfo(tz)):%a %H:%M})"
    if row.remaining < timedelta(0):
        state = f"overdue by {format_business(-row.remaining)}"
    else:
        state = f"due in {format_business(row.remaining)}"
    return (f"• {_ticket_link(row.ticket_key, row.link)} {metric_name(row.metric).lower()} "
            f"{state}{when} in {channel_mention(row.channel_id)}")


def _signed_points(delta: float) -> str:
    rounded = round(delta, 1)
    text = f"{abs(rounded):.0f}" if rounded == int(rounded) else f"{abs(rounded):.1f}"
    sign = "+" if rounded > 0 else "-" if rounded < 0 else "±"
    return f"{sign}{text} pp"


class DigestDrawing:
    """The digest's message and chart as commands/digest_send.py queues them."""

    def message(self, data: DigestData) -> tuple[str, list[Block]]:
        """Fallback text and blocks."""
        return digest_fallback_text(data), render_digest(data)

    def chart(self, data: DigestData, days: Sequence[DailyCompliance]) -> bytes:
        """The daily compliance chart, titled with the digest's scope in plain text."""
        scope = "all channels" if data.scope == "all channels" else "this channel"
        return render_compliance_chart(days, goal_percent=data.goal_percent,
                                       title=f"Daily SLA compliance, {scope}")


DIGEST_VIEWS = DigestDrawing()


def preview_reply(result: DigestPreview) -> Reply:
    """`/sla digest preview`: the digest as it would be sent now."""
    return Reply(digest_fallback_text(result.data), render_digest(result.data))


# --- shared pieces ---------------------------------------------------------------------------


def _breach_line(row: BreachRow) -> str:
    """One breach: the ticket (linked), priority, metric, how far over, where, and why."""
    why = f": _{escape_mrkdwn(row.cause)}_" if row.cause else ""
    return (
        f"• {_ticket_link(row.ticket_key, row.link)} {row.priority} "
        f"{metric_name(row.metric).lower()}, {format_business(row.over_by)} over "
        f"in {channel_mention(row.channel_id)}{why}"
    )


def _near_miss_line(row: NearMissRow) -> str:
    """One near miss: the ticket (linked), priority, metric, time to spare, where."""
    return (
        f"• {_ticket_link(row.ticket_key, row.link)} {row.priority} "
        f"{metric_name(row.metric).lower()} met with {format_business(row.spare)} to spare "
        f"of {format_business(row.target)} in {channel_mention(row.channel_id)}"
    )


def _list_text(title: str, items: Sequence[T], line: Callable[[T], str]) -> str:
    """A titled list of at most MAX_LIST_ITEMS of `items` that fits one section."""
    return list_text(title, [line(item) for item in items], max_items=MAX_LIST_ITEMS)


def _ticket_link(key: str, link: str | None) -> str:
    """The key linked to the ticket's thread (when the bot has the link)."""
    return link_to(link, key) if link else escape_mrkdwn(key)


# --- report -----------------------------------------------------------------------------------


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
        blocks.append(section(_list_text("*Worst breaches*", data.worst, _breach_line)))
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
