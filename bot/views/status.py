"""`/sla status`: compliance of a channel (or the workspace), today's counts, the forecast."""

from __future__ import annotations

from bot.views.blocks import REPLY_SECTION_TEXT, Reply, context, section
from bot.views.forecast import forecast_line
from commands.status import OpenCounts, StatusResult
from commands.text import channel_mention
from sla.compliance import ComplianceSummary, MetricSummary
from sla.durations import format_business_duration
from sla.targets import Metric


def where_label(channel_id: str | None) -> str:
    """`<#C1>` for one channel, "the whole workspace" for None."""
    return channel_mention(channel_id) if channel_id else "the whole workspace"


def percent_text(value: float | None) -> str:
    """`92%` (one decimal below 100 when it matters), or an em dash when nothing counted."""
    if value is None:
        return "—"
    rounded = round(value, 1)
    return f"{rounded:g}%"


def trend_text(points: float | None) -> str:
    """An arrow and percentage points against the previous period (`▲ 4 pts`)."""
    if points is None:
        return ""
    rounded = round(points, 1)
    if rounded > 0:
        return f" ▲ {rounded:g} pts"
    if rounded < 0:
        return f" ▼ {abs(rounded):g} pts"
    return " ▶ no change"


def _metric_line(label: str, summary: MetricSummary | None) -> str:
    if summary is None or summary.counted == 0:
        return f"*{label}*: nothing measured in this period"
    parts = [
        f"*{label}*: {percent_text(summary.met_percent)} met "
        f"({summary.met} of {summary.counted}){trend_text(summary.trend_points)}"
    ]
    if summary.median_elapsed is not None:
        parts.append(f"median {format_business_duration(summary.median_elapsed)}")
    if summary.p90_elapsed is not None:
        parts.append(f"p90 {format_business_duration(summary.p90_elapsed)}")
    return " · ".join(parts)


def render_status(
    summary: ComplianceSummary, counts: OpenCounts, *, channel_id: str | None, days: int
) -> Reply:
    """The compliance summary of a channel (or the workspace) over the last `days` days."""
    where = where_label(channel_id)
    headline = (
        f":large_green_circle: {counts.open} open · :warning: {counts.at_risk} at risk · "
        f":rotating_light: {counts.breached} breached now"
    )
    lines = [
        _metric_line("First response", summary.metrics.get(Metric.FIRST_RESPONSE)),
        _metric_line("Resolution", summary.metrics.get(Metric.RESOLUTION)),
    ]
    next_response = summary.metrics.get(Metric.NEXT_RESPONSE)
    if next_response is not None and next_response.counted:
        lines.append(_metric_line("Next response", next_response))
    text = f"SLA status for {where}, last {days} days\n{headline}\n" + "\n".join(lines)
    blocks = [
        section(f"*SLA status for {where}* · last {days} days", REPLY_SECTION_TEXT),
        section(headline, REPLY_SECTION_TEXT),
        section("\n".join(lines), REPLY_SECTION_TEXT),
        context(
            f"Trend compares with the {days} days before. Met % counts targets that stopped "
            "in the period plus open tickets already past their target."
        ),
    ]
    return Reply(text, blocks)


def status_reply(result: StatusResult) -> Reply:
    """The status, with the forecast (a channel's) above the closing note."""
    reply = render_status(result.summary, result.counts, channel_id=result.channel_id,
                          days=result.days)
    if result.forecast is None or reply.blocks is None:
        return reply
    line = forecast_line(result.forecast)
    forecast_block = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
    return Reply(f"{reply.text}\n{line}", [*reply.blocks[:-1], forecast_block, reply.blocks[-1]])
