"""Pure Block Kit builders for `/sla status`, `/sla list`, `/sla ticket` and `/sla policy`.

Plain data in, a `Reply` out: no Slack calls, no database, `now` passed in. Business
durations are written like `1h 30m`; instants in the channel's time zone ("10:30 Berlin").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from commands.parser import ListFilter
from commands.request import Reply
from commands.text import channel_mention, escape_mrkdwn, user_mention
from commands.text import link as link_to
from commands.views import (
    METRIC_LABELS,
    PRIORITY_EMOJI,
    excerpt,
    local_time,
    place_name,
    relative,
    render_ticket_card,
)
from sla.clock import TicketClock
from sla.compliance import ComplianceSummary, MetricSummary
from sla.durations import format_business_duration
from sla.policy import Policy
from sla.targets import Audience, Metric, Priority

# Slack caps a message at 50 blocks and a section's text at 3000 characters.
MAX_LIST_LINES = 20
_SECTION_LIMIT = 2900
_AUDIENCE_LABELS = {
    Audience.THREAD: "thread",
    Audience.ASSIGNEE: "assignee",
    Audience.ESCALATION_CHANNEL: "escalation channel",
    Audience.MANAGERS: "managers",
}
_FILTER_TITLES = {
    ListFilter.OPEN: "Open tickets",
    ListFilter.AT_RISK: "Tickets at risk",
    ListFilter.BREACHED: "Tickets past their SLA",
    ListFilter.MINE: "Your open tickets",
}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_SECTION_LIMIT]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def where_label(channel_id: str | None) -> str:
    """`<#C1>` for one channel, "the whole workspace" for None."""
    return channel_mention(channel_id) if channel_id else "the whole workspace"


# -- status -----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class OpenCounts:
    """Tickets open right now, at risk, and past an SLA target (not metrics: tickets)."""

    open: int
    at_risk: int
    breached: int


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
        _section(f"*SLA status for {where}* · last {days} days"),
        _section(headline),
        _section("\n".join(lines)),
        _context(
            f"Trend compares with the {days} days before. Met % counts targets that stopped "
            "in the period plus open tickets already past their target."
        ),
    ]
    return Reply(text=text, blocks=blocks)


# -- list -------------------------------------------------------------------------------------


class ListedTicket(Protocol):
    """The ticket fields a list line shows (a storage Ticket row satisfies it)."""

    key: str
    priority: str
    status: str
    channel_id: str
    title: str
    text: str
    permalink: str | None
    assignee_id: str | None
    first_response_due_at: datetime | None
    first_response_stopped_at: datetime | None
    resolution_due_at: datetime | None
    resolution_stopped_at: datetime | None


def _next_due(ticket: ListedTicket) -> tuple[Metric, datetime] | None:
    candidates = [
        (metric, due)
        for metric, due, stopped in (
            (Metric.FIRST_RESPONSE, ticket.first_response_due_at,
             ticket.first_response_stopped_at),
            (Metric.RESOLUTION, ticket.resolution_due_at, ticket.resolution_stopped_at),
        )
        if due is not None and stopped is None
    ]
    return min(candidates, key=lambda pair: pair[1], default=None)


def ticket_line(ticket: ListedTicket, tz: str, now: datetime, *, show_channel: bool) -> str:
    """One ticket in a list: priority, key (linked), state, channel, title excerpt."""
    name = link_to(ticket.permalink, ticket.key) if ticket.permalink else f"*{ticket.key}*"
    emoji = PRIORITY_EMOJI.get(Priority(ticket.priority), "")
    if ticket.status == "paused":
        state = ":double_vertical_bar: paused"
    elif ticket.status == "resolved":
        state = ":white_check_mark: resolved"
    else:
        due = _next_due(ticket)
        if due is None:
            state = "open"
        else:
            metric, at = due
            label = METRIC_LABELS[metric].lower()
            when = local_time(at, tz, now)
            if at <= now:
                state = f":rotating_light: {label} overdue by {relative(now - at)} ({when})"
            else:
                state = f"{label} due in {relative(at - now)} ({when})"
    where = f" in {channel_mention(ticket.channel_id)}" if show_channel else ""
    owner = f" · {user_mention(ticket.assignee_id)}" if ticket.assignee_id else ""
    title = escape_mrkdwn(excerpt(ticket.title or ticket.text, 80))
    return f"{emoji} {name} {ticket.priority}{where} · {state}{owner}\n      {title}"


def render_ticket_list(
    tickets: Sequence[ListedTicket],
    which: ListFilter,
    *,
    channel_id: str | None,
    tz: str,
    now: datetime,
    total: int | None = None,
) -> Reply:
    """A list of tickets (at most MAX_LIST_LINES lines; `total` says how many matched)."""
    title = _FILTER_TITLES[which]
    where = where_label(channel_id)
    total = len(tickets) if total is None else total
    if not tickets:
        empty = {
            ListFilter.OPEN: "No open tickets",
            ListFilter.AT_RISK: "Nothing at risk",
            ListFilter.BREACHED: "Nothing past its SLA",
            ListFilter.MINE: "You have no open tickets",
        }[which]
        text = f"{empty} in {where}. :tada:"
        return Reply(text=text, blocks=[_section(text)])
    shown = tickets[:MAX_LIST_LINES]
    lines = [ticket_line(t, tz, now, show_channel=channel_id is None) for t in shown]
    heading = f"*{title}* in {where} ({total})"
    blocks = [_section(heading)]
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > _SECTION_LIMIT:
            blocks.append(_section(chunk))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}" if chunk else line
    blocks.append(_section(chunk))
    footer = f"Times in {place_name(tz)} time."
    if total > len(shown):
        footer = f"Showing {len(shown)} of {total}, most urgent first. " + footer
    blocks.append(_context(footer))
    text = f"{title} in {where} ({total})\n" + "\n".join(lines)
    return Reply(text=text, blocks=blocks)


# -- one ticket -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a ticket's history: what happened, when, who did it, why."""

    at: datetime
    kind: str
    actor_id: str | None = None
    priority: str | None = None
    note: str | None = None


_HISTORY_WORDS = {
    "created": "opened",
    "responded": "answered",
    "requester_replied": "requester replied",
    "paused": "paused",
    "resumed": "resumed",
    "priority_changed": "priority set to {priority}",
    "resolved": "resolved",
    "reopened": "reopened",
    "assigned": "assigned to {note}",
    "note": "note",
}
MAX_HISTORY = 10


def history_line(entry: HistoryEntry, tz: str, now: datetime) -> str:
    """`Tue 10:30 Berlin · paused by <@U1>: waiting for the vendor`."""
    note = entry.note or ""
    if entry.kind == "assigned":
        what = f"assigned to {user_mention(note)}" if note else "unassigned"
        note = ""
    else:
        what = escape_mrkdwn(_HISTORY_WORDS.get(entry.kind, entry.kind).format(
            priority=entry.priority or "", note=note
        ))
    by = f" by {user_mention(entry.actor_id)}" if entry.actor_id else ""
    # Reasons are what people typed (`/sla pause SLA-2 <!channel>`): shown, never run.
    why = f": {escape_mrkdwn(excerpt(note, 120))}" if note else ""
    return f"{local_time(entry.at, tz, now)} · {what}{by}{why}"


def render_ticket_detail(
    ticket: Any, clock: TicketClock, tz: str, now: datetime,
    history: Sequence[HistoryEntry] = (),
) -> Reply:
    """The ticket card as `/sla ticket` shows it, its latest history and a link to its thread."""
    blocks = render_ticket_card(ticket, clock, tz, now)
    if history:
        shown = list(history)[-MAX_HISTORY:]
        lines = [history_line(entry, tz, now) for entry in shown]
        if len(history) > len(shown):
            lines.insert(0, f"…{len(history) - len(shown)} earlier")
        blocks.append(_section("*History*\n" + "\n".join(lines)))
    permalink = getattr(ticket, "permalink", None)
    origin = (link_to(permalink, "Open the thread") if permalink
              else f"Thread in {channel_mention(ticket.channel_id)}")
    blocks.append(_context(f"{origin} · opened {local_time(ticket.created_at, tz, now)}"))
    text = f"{ticket.key} · {clock.priority} · {ticket.status}"
    return Reply(text=text, blocks=blocks)


# -- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSettings:
    """What `/sla policy` shows besides the policy: tracking and escalation targets."""

    channel_id: str
    tracking: bool
    default_priority: Priority | None
    escalation_channel_ids: tuple[str, ...]
    manager_user_ids: tuple[str, ...]
    own_policy: bool
    responder_user_ids: tuple[str, ...] = ()


def _target(value: timedelta | None) -> str:
    return format_business_duration(value) if value is not None else "—"


def targets_table(policy: Policy) -> str:
    """A monospaced table of targets per priority."""
    rows = [f"{'':4}{'First response':<16}{'Resolution':<12}Next response"]
    for priority, targets in policy.targets.items():
        rows.append(
            f"{priority.value:<4}{_target(targets.first_response):<16}"
            f"{_target(targets.resolution):<12}{_target(targets.next_response)}"
        )
    return "```" + "\n".join(rows) + "```"


def nudges_text(policy: Policy) -> str:
    """`50% → thread · 80% → thread, assignee · breach → ...`, plus re-escalation."""
    parts = []
    for rule in policy.nudges:
        label = "breach" if rule.fraction >= 1 else f"{round(rule.fraction * 100):g}%"
        audiences = ", ".join(
            _AUDIENCE_LABELS[a] for a in sorted(rule.audiences, key=list(Audience).index)
        )
        parts.append(f"{label} → {audiences}")
    every = policy.reescalate_every
    again = f"re-escalate every {format_business_duration(every)}" if every else "no re-escalation"
    return " · ".join(parts) + f" · {again}"


def credits_text(policy: Policy) -> str:
    """The service credit tiers in one line, or that there are none."""
    if not policy.credit_tiers:
        return "none (set them with `/sla policy credits 95%=5% 90%=10%`)"
    return ", ".join(f"below {t.below_percent:g}% → {t.credit_percent:g}% credit"
                     for t in policy.credit_tiers)


def escalation_text(settings: ChannelSettings) -> str:
    """Where breaches go, or a hint that nowhere but the thread."""
    targets = [channel_mention(c) for c in settings.escalation_channel_ids]
    targets += [user_mention(u) for u in settings.manager_user_ids]
    if not targets:
        return "only the thread (set one with `/sla escalate #channel @manager`)"
    return ", ".join(targets)


def render_policy(policy: Policy, settings: ChannelSettings) -> Reply:
    """This channel's policy: hours, targets per priority, nudges, escalation, tracking."""
    source = "this channel's own policy" if settings.own_policy else "the workspace default"
    if settings.tracking:
        default = settings.default_priority or policy.default_priority
        tracking = f"on: new messages become tickets, default priority {default}"
    else:
        tracking = "off (turn it on with `/sla track`)"
    lines = [
        f"*Business hours*: {policy.calendar.describe()}",
        "*Targets* (business time)",
        targets_table(policy),
        f"*Nudges*: {nudges_text(policy)}",
        f"*Service credits* (resolution compliance): {credits_text(policy)}",
        f"*Escalation*: {escalation_text(settings)}",
        f"*Tracking*: {tracking}",
    ]
    if settings.responder_user_ids:
        people = ", ".join(user_mention(u) for u in settings.responder_user_ids)
        lines.append(f"*Responders*: {people} (their replies always count as an answer)")
    heading = f"*SLA policy for {channel_mention(settings.channel_id)}* ({source})"
    blocks = [_section(heading), _section("\n".join(lines))]
    return Reply(text=heading + "\n" + "\n".join(lines), blocks=blocks)
