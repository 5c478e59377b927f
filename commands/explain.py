"""`/sla explain SLA-42` and the card's Explain button: the ledger of a ticket's clock.

Where every second of each metric went (running, paused and why, outside business hours,
holiday), the thresholds with when each nudge fired or will fire, and one line saying why the
ticket is breached, at risk or fine. Always private. A channel sees only its own tickets
(admins: any); another channel's ticket reads exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from commands.errors import NotFound, errors_to_user
from commands.parser import parse_ticket_ref
from commands.permissions import is_admin
from commands.request import Reply, Verb, VerbRequest
from commands.text import MAX_REPLY_CHARS, channel_mention, escape_mrkdwn, quote
from commands.timezones import user_tz
from commands.views import METRIC_LABELS, place_name
from sla.durations import format_business_duration, format_duration
from sla.events import ClockEvent
from sla.ledger import MetricLedger, NudgeRecord, Threshold, ThresholdStatus, TicketLedger, explain
from sla.policy import Policy
from sla.segments import Segment, SegmentKind
from sla.targets import Metric
from storage import repositories as repo
from storage.mappers import clock_events
from storage.repositories.nudges import list_nudges

USAGE = "/sla explain SLA-42"
STATE_EMOJI = {
    "breached": ":x:",
    "at risk": ":warning:",
    "paused": ":double_vertical_bar:",
    "fine": ":white_check_mark:",
    "resolved": ":white_check_mark:",
}
_REASON_CHARS = 80


@dataclass(frozen=True)
class _Loaded:
    key: str
    channel_id: str
    events: list[ClockEvent]
    reasons: dict[datetime, str]
    nudges: list[NudgeRecord]
    policy: Policy


def explain_ticket(deps: Any, *, team_id: str, user_id: str, channel_id: str, key: str) -> Reply:
    """The private ledger of ticket `key` as seen from `channel_id` by `user_id`."""
    now = deps.clock.now()
    loaded = _load(deps, team_id=team_id, key=key)
    # The admin check may ask Slack (users.info): never inside the unit of work.
    if loaded is None or (loaded.channel_id != channel_id and not is_admin(deps, user_id)):
        # The key may come from a crafted button value: quoted, never rendered as mrkdwn.
        raise NotFound(f"There is no ticket {quote(key, 40)} in {channel_mention(channel_id)}. "
                       "Try `/sla list`.")
    ledger = explain(loaded.events, loaded.policy, now, pause_reasons=loaded.reasons,
                     nudges=loaded.nudges)
    tz = user_tz(deps, user_id, loaded.policy.calendar.tz)
    text = render_ledger(loaded.key, ledger, tz=tz)
    return Reply(text=text, public=False)


def _load(deps: Any, *, team_id: str, key: str) -> _Loaded | None:
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        ticket = repo.get_ticket_by_key(session=session, workspace_id=workspace.id, key=key)
        if ticket is None:
            return None
        rows = repo.list_events(session=session, ticket_id=ticket.id)
        reasons = {r.at: r.note for r in rows if r.kind == "paused" and r.note}
        nudges = [
            NudgeRecord(Metric(n.metric), n.threshold, n.seq, n.cycle, n.state,
                        n.sent_at or n.planned_at, n.late)
            for n in list_nudges(session=session, ticket_id=ticket.id)
        ]
        policy = repo.get_policy(
            session=session, workspace_id=workspace.id, channel_id=ticket.channel_id
        )
        return _Loaded(ticket.key, ticket.channel_id, clock_events(rows), reasons, nudges, policy)


# -- rendering ----------------------------------------------------------------------------------


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
    thresholds = " · ".join(_threshold(t, zone) for t in metric.thresholds)
    return (
        f"*{label}* · target {format_business_duration(c.target)} ({metric.priority}) · "
        f"{state} · {', '.join(totals)}\n"
        f"Nudges: {thresholds or 'none configured'}"
    )


def _threshold(threshold: Threshold, zone: ZoneInfo) -> str:
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


def handle_explain(request: VerbRequest) -> Reply:
    """The ledger of a ticket of this channel (admins: any channel), privately."""
    number = parse_ticket_ref(request.args, USAGE)
    return explain_ticket(request.deps, team_id=request.team_id, user_id=request.user_id,
                          channel_id=request.channel_id, key=f"SLA-{number}")


def on_explain_button(ack: Any, body: dict[str, Any], respond: Any, deps: Any) -> None:
    """The card's Explain button: a read, so it is answered at once and only to the presser."""
    ack()
    with errors_to_user(respond):
        channel = (body.get("channel") or {}).get("id") or (
            body.get("container") or {}).get("channel_id") or ""
        team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get(
            "team_id") or ""
        reply = explain_ticket(deps, team_id=team_id, user_id=body["user"]["id"],
                               channel_id=channel, key=str(body["actions"][0]["value"]))
        respond(text=reply.text, response_type="ephemeral", replace_original=False)


VERBS = (
    Verb(
        name="explain",
        usage=(USAGE,),
        summary="why a ticket is breached, at risk or fine: where every second of its clock went",
        details="The ledger of each metric: running, paused (with the reason), outside "
        "business hours and holidays, with the business time each counted (it adds up to "
        "the clock exactly), and when each nudge fired or will fire. Only you see it.",
        handler=handle_explain,
    ),
)

__all__ = ["VERBS", "explain_ticket", "on_explain_button", "render_ledger"]
