"""Pure Block Kit builders for the ticket card and the App Home tab.

Plain data in, dicts out: no Slack calls, no database, `now` passed in. Times are shown
in the reader's terms: relative ("in 45 min") and local wall clock ("10:30 Berlin").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from commands.ids import Action, Block
from commands.text import channel_mention, escape_mrkdwn, link, user_mention
from sla.clock import MetricClock, MetricState, TicketClock
from sla.durations import format_business_duration
from sla.targets import Metric, Priority

METRIC_LABELS = {
    Metric.FIRST_RESPONSE: "First response",
    Metric.NEXT_RESPONSE: "Next response",
    Metric.RESOLUTION: "Resolution",
}
PRIORITY_EMOJI = {
    Priority.P1: ":red_circle:",
    Priority.P2: ":large_orange_circle:",
    Priority.P3: ":large_yellow_circle:",
    Priority.P4: ":white_circle:",
}
# Slack caps section text at 3000 characters; the excerpt stays far below.
_EXCERPT_CHARS = 280
_PRIORITY_ACTIONS = {
    Priority.P1: Action.PRIORITY_P1,
    Priority.P2: Action.PRIORITY_P2,
    Priority.P3: Action.PRIORITY_P3,
    Priority.P4: Action.PRIORITY_P4,
}


class TicketLike(Protocol):
    """The ticket fields a card shows (a storage Ticket row satisfies it)."""

    key: str
    priority: str
    status: str
    requester_id: str
    assignee_id: str | None
    text: str
    channel_id: str


@dataclass(frozen=True)
class HomeItem:
    """One ticket line of the App Home tab."""

    key: str
    priority: str
    status: str
    channel_id: str
    title: str
    permalink: str | None
    clock: TicketClock


def place_name(tz: str) -> str:
    """A readable place for a time zone: ``Europe/Berlin`` -> ``Berlin``."""
    if tz.upper() == "UTC":
        return "UTC"
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def local_time(at: datetime, tz: str, now: datetime) -> str:
    """``10:30 Berlin`` today, ``Tue 10:30 Berlin`` this week, ``2 Dec 10:30 Berlin`` later."""
    zone = ZoneInfo(tz)
    local, local_now = at.astimezone(zone), now.astimezone(zone)
    days_apart = abs((local.date() - local_now.date()).days)
    if days_apart == 0:
        day = ""
    elif days_apart < 7:
        day = local.strftime("%a ")
    else:
        day = f"{local.day} {local.strftime('%b')} "
    return f"{day}{local.strftime('%H:%M')} {place_name(tz)}"


def relative(delta: timedelta) -> str:
    """Wall-clock distance in words: ``45 min``, ``3 h 10 min``, ``2 days``."""
    seconds = int(abs(delta).total_seconds())
    if seconds < 60:
        return "less than a minute"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def due_text(metric: MetricClock, tz: str, now: datetime) -> str:
    """What a person needs to know about one metric, e.g. ``in 45 min, 10:30 Berlin``.

    Target, elapsed and remaining are business time, shown in hours like `/sla policy`
    ("24h", not "1d", which reads as one day); due instants are wall clock.
    """
    target = format_business_duration(metric.target)
    took = format_business_duration(metric.elapsed)
    if metric.state is MetricState.MET:
        return f":white_check_mark: met in {took} (target {target})"
    if metric.stopped:
        return f":x: missed: took {took} (target {target})"
    if metric.state is MetricState.PAUSED:
        left = format_business_duration(metric.remaining)
        return f":double_vertical_bar: paused, {left} of business time left"
    if metric.due_at is None:
        return f"target {target}"
    when = local_time(metric.due_at, tz, now)
    if metric.breached or metric.due_at <= now:
        return f":rotating_light: overdue by {relative(now - metric.due_at)} (was due {when})"
    return f"in {relative(metric.due_at - now)}, {when}"


def excerpt(text: str, limit: int = _EXCERPT_CHARS) -> str:
    """The start of a message, on one quoted paragraph, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _button(text: str, action: Action, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action.value,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def card_text(ticket: TicketLike, clock: TicketClock) -> str:
    """Notification fallback text of a card (shown where blocks are not)."""
    return f"{ticket.key} · {clock.priority} · {status_label(ticket, clock)}"


def status_label(ticket: TicketLike, clock: TicketClock) -> str:
    """Open / Paused / Resolved, with a breach mark."""
    if clock.resolved:
        label = "Resolved"
    elif clock.paused:
        label = "Paused"
    else:
        label = "Open"
    if any(m.breached for m in clock.metrics.values()):
        label += " · SLA breached"
    return label


def render_ticket_card(
    ticket: TicketLike, clock: TicketClock, tz: str, now: datetime
) -> list[dict[str, Any]]:
    """The ticket card posted in the thread and updated in place as the ticket changes."""
    priority = clock.priority
    people = f"Requester {user_mention(ticket.requester_id)}"
    if ticket.assignee_id:
        people += f" · Assignee {user_mention(ticket.assignee_id)}"
    header = (
        f"{PRIORITY_EMOJI.get(priority, '')} *{ticket.key}* · {priority} · "
        f"{status_label(ticket, clock)}\n{people}"
    )
    if ticket.text.strip():
        # The requester's words are shown, never run: a typed <!channel> must not ping.
        header += f"\n>{escape_mrkdwn(excerpt(ticket.text))}"
    fields = [
        {"type": "mrkdwn", "text": f"*{METRIC_LABELS[metric]}*\n{due_text(mc, tz, now)}"}
        for metric, mc in clock.metrics.items()
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": Block.CARD_HEADER.value,
         "text": {"type": "mrkdwn", "text": header}},
    ]
    if fields:
        blocks.append({"type": "section", "block_id": Block.CARD_DUE.value, "fields": fields})
    elements: list[dict[str, Any]] = []
    if clock.resolved:
        elements.append(_button("Reopen", Action.REOPEN, ticket.key))
    else:
        for p, action in _PRIORITY_ACTIONS.items():
            style = "primary" if p == priority else None
            elements.append(_button(p.value, action, ticket.key, style))
        if clock.paused:
            elements.append(_button(":arrow_forward: Resume", Action.RESUME, ticket.key))
        else:
            elements.append(_button(":double_vertical_bar: Pause", Action.PAUSE, ticket.key))
        resolve = _button(":white_check_mark: Resolve", Action.RESOLVE, ticket.key, "primary")
        elements.append(resolve)
    elements.append(_button(":mag: Explain", Action.EXPLAIN, ticket.key))
    blocks.append({"type": "actions", "block_id": Block.CARD_ACTIONS.value, "elements": elements})
    blocks.append({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Times in {place_name(tz)} time · "
                      "react :eyes: when you are on it, :white_check_mark: when done"}],
    })
    return blocks


def is_at_risk(clock: TicketClock, threshold: float = 0.8) -> bool:
    """A running ticket past `threshold` of any target, or already breached."""
    return any(
        not m.stopped and (m.breached or m.fraction >= threshold) for m in clock.metrics.values()
    )


def _home_line(item: HomeItem, tz: str, now: datetime) -> str:
    running = [m for m in item.clock.metrics.values() if not m.stopped]
    soonest = min(
        (m for m in running if m.due_at is not None), key=lambda m: m.due_at, default=None
    )
    if item.clock.paused:
        state = "paused"
    elif soonest is not None:
        state = f"{METRIC_LABELS[soonest.metric].lower()} {due_text(soonest, tz, now)}"
    else:
        state = item.status
    name = link(item.permalink, item.key) if item.permalink else f"*{item.key}*"
    title = escape_mrkdwn(excerpt(item.title, 80))
    emoji = PRIORITY_EMOJI.get(Priority(item.priority), "")
    return f"{emoji} {name} in {channel_mention(item.channel_id)} · {state}\n{title}"


def render_home(
    user_id: str, items: Sequence[HomeItem], tz: str, now: datetime, *, limit: int = 20
) -> dict[str, Any]:
    """The App Home tab: the user's open tickets (requested or assigned) and those at risk."""
    at_risk = [i for i in items if is_at_risk(i.clock)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": Block.HOME_HEADER.value,
         "text": {"type": "plain_text", "text": "Your SLA tickets"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"{user_mention(user_id)} · {len(items)} open · {len(at_risk)} at risk · "
            f"times in {place_name(tz)} time")}]},
    ]
    sections = (("At risk", at_risk), ("Open", [i for i in items if i not in at_risk]))
    for title, group in sections:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}})
        if not group:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": "Nothing here :tada:" if title == "At risk"
                 else "No other open tickets."}]})
            continue
        for item in group[:limit]:
            blocks.append({"type": "section",
                           "text": {"type": "mrkdwn", "text": _home_line(item, tz, now)}})
        if len(group) > limit:
            more = f"…and {len(group) - limit} more: try `/sla list mine`"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
        blocks.append({"type": "divider"})
    return {"type": "home", "blocks": blocks}
