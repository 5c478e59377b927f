"""`/sla explain` and the card's Explain button: a ticket's ledger, where every second of its
clocks went, as mrkdwn held under Slack's reply limit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.views.blocks import Reply
from bot.views.formats import METRIC_LABELS, place_name
from commands.explain import LedgerResult
from commands.text import MAX_REPLY_CHARS, escape_mrkdwn, quote
from sla.durations import format_business_duration, format_duration
from sla.ledger import MetricLedger, Threshold, ThresholdStatus, TicketLedger
from sla.segments import Segment, SegmentKind
from sla.targets import Metric

STATE_EMOJI = {
    "breached": ":x:",
    "at risk": ":warning:",
    "paused": ":double_vertical_bar:",
    "fine": ":white_check_mark:",
    "resolved": ":white_check_mark:",
}
_REASON_CHARS = 80


def ledger_reply(result: LedgerResult) -> Reply:
    """The ledger as a private answer."""
    return Reply(render_ledger(result.key, result.ledger, tz=result.tz))


def render_ledger(key: str, ledger: TicketLedger, *, tz: str,
                  limit: int = MAX_REPLY_CHARS) -> str:
    """The ledger as mrkdwn, under `limit` characters (long ledgers lose middle segments)."""
    zone = ZoneInfo(tz)
    head = [
        f"{STATE_EMOJI.get(ledger.state, '')} *{escape_mrkdwn(key)}* · "
        f"{ledger.clock.priority} · {ledger.state}",
        f">{escape_mrkdwn(ledger.verdict)}",
    ]
    parts = []
    for metric in ledger.metrics:
        parts.append((_metric_head(metric, zone), metric.segments))
    footer = f"_Times in {place_name(tz)} time; counted = business time on the clock._"
    fixed = sum(len(h) + 1 for h in head) + sum(len(h) + 1 for h, _ in parts) + len(footer)
    budget = max(limit - fixed - 40, 0)
    share = budget // max(len(parts), 1)
    lines = list(head)
    for metric_head, segments in parts:
        lines.append(metric_head)
        lines += _segment_lines(segments, zone, share)
    lines.append(footer)
    return "\n".join(lines)[:limit]


def _metric_head(metric: MetricLedger, zone: ZoneInfo) -> str:
    c = metric.clock
    label = METRIC_LABELS[metric.metric]
    if metric.metric is Metric.NEXT_RESPONSE:
        label += f" (cycle {c.cycle + 1})"
    state = c.state.value
    totals = [f"counted {format_business_duration(metric.counted)}"]
    held = metric.held()
    if held:
        totals.append(f"held by pauses {format_business_duration(held)}")
    for kind in (SegmentKind.CLOSED, SegmentKind.HOLIDAY):
        wall = metric.total(kind)
        if wall:
            totals.append(f"{kind.value} {format_duration(wall)}")
    thresholds = " · ".join(threshold_text(t, zone) for t in metric.thresholds)
    return (
        f"*{label}* · target {format_business_duration(c.target)} ({metric.priority}) · "
        f"{state} · {', '.join(totals)}\n"
        f"Nudges: {thresholds or 'none configured'}"
    )


def threshold_text(threshold: Threshold, zone: ZoneInfo) -> str:
    """One threshold and what became of it: `80% (48m) will fire Mon 02 Mar 09:48`."""
    if threshold.seq:
        name = f"re-escalation {threshold.seq}"
    elif threshold.fraction >= 1:
        name = "breach"
    else:
        name = f"{threshold.fraction:.0%}"
    status = threshold.status
    if status is ThresholdStatus.SENT:
        what = f"sent {_at(threshold.at, zone)}" + (" (late)" if threshold.late else "")
    elif status is ThresholdStatus.PENDING:
        what = f"queued {_at(threshold.at, zone)}"
    elif status in (ThresholdStatus.WILL_FIRE, ThresholdStatus.DUE):
        what = f"{status.value} {_at(threshold.planned_at, zone)}" if status is \
            ThresholdStatus.WILL_FIRE else status.value
    else:
        what = status.value
    return f"{name} ({format_business_duration(threshold.business_time)}) {what}"


def _segment_lines(segments: tuple[Segment, ...], zone: ZoneInfo, budget: int) -> list[str]:
    lines = [_segment(s, zone) for s in segments]
    if sum(len(line) + 1 for line in lines) <= budget:
        return lines
    # Keep the start and the latest segments; say how many were left out between them.
    kept_head: list[str] = []
    kept_tail: list[str] = []
    used = 40
    for i in range(len(lines)):
        pick = lines[i // 2] if i % 2 == 0 else lines[len(lines) - 1 - i // 2]
        if used + len(pick) + 1 > budget:
            break
        (kept_head if i % 2 == 0 else kept_tail).append(pick)
        used += len(pick) + 1
    hidden = len(lines) - len(kept_head) - len(kept_tail)
    return [*kept_head, f"• … {hidden} more segments", *reversed(kept_tail)]


def _segment(segment: Segment, zone: ZoneInfo) -> str:
    span = f"{_at(segment.start, zone)} → {_at(segment.end, zone)}"
    if segment.kind is SegmentKind.RUNNING:
        return f"• {span} running: +{format_business_duration(segment.counted)}"
    if segment.kind in (SegmentKind.PAUSED, SegmentKind.RESOLVED):
        why = f" ({quote(segment.reason, _REASON_CHARS)})" if segment.reason else ""
        return (f"• {span} {segment.kind.value}{why}: held "
                f"{format_business_duration(segment.held)} of business time")
    return f"• {span} {segment.kind.value}: +0"


def _at(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return "(when it resumes)"
    return at.astimezone(zone).strftime("%a %d %b %H:%M")
