"""Block Kit for the weekly digest and the compliance report: pure builders from plain data.

Slack rejects a message over its Block Kit limits, so every builder caps its lists and
`check_block_kit_limits` states the limits the tests hold the output to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

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
from commands.text import channel_mention, escape_mrkdwn
from commands.text import link as link_to
from sla.durations import format_business_duration

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_LIST_ITEMS = 10  # breaches / at-risk lines shown before "and N more"

METRIC_NAMES = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}


class BlockKitLimitError(ValueError):
    """Blocks that Slack would reject; the message lists every limit broken."""


def check_block_kit_limits(blocks: Sequence[dict]) -> None:
    """Raise BlockKitLimitError unless `blocks` fit Slack's message limits."""
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (max {MAX_BLOCKS})")
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {}).get("text", "")
            if len(text) > MAX_SECTION_TEXT:
                problems.append(f"block {index}: section text of {len(text)} chars")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"block {index}: {len(fields)} fields")
            problems += [
                f"block {index}: field of {len(f['text'])} chars"
                for f in fields
                if len(f["text"]) > MAX_FIELD_TEXT
            ]
            if not text and not fields:
                problems.append(f"block {index}: empty section")
        elif kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
            problems.append(f"block {index}: header of {len(block['text']['text'])} chars")
        elif kind == "context" and len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {index}: {len(block['elements'])} context elements")
    if problems:
        raise BlockKitLimitError("blocks exceed Slack limits: " + "; ".join(problems))


# --- digest -----------------------------------------------------------------------------------


def render_digest(data: DigestData) -> list[dict]:
    """The weekly digest message; an empty week is a single line."""
    if data.empty:
        return [_section(digest_fallback_text(data))]
    blocks = [
        _header("Weekly SLA digest"),
        _context(f"{data.scope} · {data.period.label} · business time, {data.tz}"),
        _fields(
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
    if data.breaches:
        blocks.append(
            _section(_list_text(f"*Breaches* ({len(data.breaches)})", data.breaches, _breach_line))
        )
    else:
        blocks.append(_section("*Breaches*: none :tada:"))
    missed = _missed_text(data.channels_missed, data.priorities_missed)
    if missed:
        blocks.append(_section(missed))
    if data.at_risk:
        blocks.append(
            _section(
                _list_text(
                    f"*At risk now* ({len(data.at_risk)})",
                    data.at_risk,
                    lambda row: _at_risk_line(row, data.tz),
                )
            )
        )
    blocks.append(
        _context(
            f"Met % = met / (met + breached) of metrics that stopped in the week, plus running "
            f"ones already breached. Goal {format_percent(data.goal_percent)}."
        )
    )
    check_block_kit_limits(blocks)
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
    return f"• {_ticket(row.ticket_key, row.link)} {metric_name(row.metric).lower()} {state}" + (
        f"{when} in {channel_mention(row.channel_id)}"
    )


# --- report -----------------------------------------------------------------------------------


def render_report(data: ReportData) -> list[dict]:
    """The compliance report: totals, per priority and metric, worst breaches, credit owed."""
    blocks = [
        _header("SLA compliance report"),
        _context(
            f"{data.scope} · {data.period.label} · {count_tickets(data.ticket_count)} · "
            f"business time, {data.tz}"
        ),
    ]
    if data.ticket_count == 0 and not any(r.met + r.breached for r in data.totals):
        blocks.append(_section(f"No SLA tickets in {data.scope} for {data.period.label}."))
        return blocks
    blocks.append(_fields([_row_field(row, "All priorities") for row in data.totals]))
    for priority, rows in _by_priority(data.rows):
        blocks.append(_fields([_row_field(row, priority) for row in rows]))
    if data.worst:
        blocks.append(_section(_list_text("*Worst breaches*", data.worst, _breach_line)))
    if data.credit is not None:
        blocks.append(_section(_credit_text(data.credit)))
    blocks.append(_context(data.formula))
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


# --- shared pieces ----------------------------------------------------------------------------


def _breach_line(row: BreachRow) -> str:
    return (
        f"• {_ticket(row.ticket_key, row.link)} {row.priority} "
        f"{metric_name(row.metric).lower()}, {format_business(row.over_by)} over "
        f"in {channel_mention(row.channel_id)}"
    )


def _list_text(title: str, items: Sequence, line) -> str:
    lines = [title]
    shown = 0
    for item in items[:MAX_LIST_ITEMS]:
        candidate = line(item)
        # Keep room for the "and N more" line so the section stays under Slack's limit.
        if sum(len(x) + 1 for x in lines) + len(candidate) > MAX_SECTION_TEXT - 40:
            break
        lines.append(candidate)
        shown += 1
    if shown < len(items):
        lines.append(f"…and {len(items) - shown} more")
    return "\n".join(lines)


def _ticket(key: str, link: str | None) -> str:
    return link_to(link, key) if link else escape_mrkdwn(key)


def count_tickets(count: int) -> str:
    """`1 ticket`, `3 tickets`."""
    return f"{count} ticket" if count == 1 else f"{count} tickets"


def metric_name(metric: str) -> str:
    """`first_response` -> `First response`."""
    return METRIC_NAMES.get(str(metric), str(metric).replace("_", " ").capitalize())


def format_percent(value: float | None) -> str:
    """`91.7%`, `100%`, or `n/a` when nothing was measured."""
    if value is None:
        return "n/a"
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


def _signed_points(delta: float) -> str:
    rounded = round(delta, 1)
    text = f"{abs(rounded):.0f}" if rounded == int(rounded) else f"{abs(rounded):.1f}"
    sign = "+" if rounded > 0 else "-" if rounded < 0 else "±"
    return f"{sign}{text} pp"


def format_business(value: timedelta | None) -> str:
    """A business-time duration such as `1h 30m`, or `n/a`."""
    return "n/a" if value is None else format_business_duration(value)


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:MAX_HEADER_TEXT]}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}}


def _fields(texts: Sequence[str]) -> dict:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": t[:MAX_FIELD_TEXT]} for t in texts[:MAX_FIELDS]],
    }
