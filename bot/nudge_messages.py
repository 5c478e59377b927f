"""Nudge messages: who hears a nudge, what it says, and delivering it through the notifier.

Rendering is pure (plain data in, text + Block Kit out) so the wording is tested without
Slack; `deliver_nudge` is the only function here that talks to the network, and it does so
through the notifier seam only. The outbox sender that decides when a nudge goes out, and
makes sure it goes out once, is bot/nudges/.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.logs import log_event, nudge_fields
from commands.slack_notifier import Blocks
from commands.text import channel_mention, user_mention
from commands.text import link as link_to
from sla.durations import format_business_duration, format_duration
from sla.targets import Audience, Metric

log = logging.getLogger(__name__)


METRIC_LABELS = {
    Metric.FIRST_RESPONSE: "First response",
    Metric.NEXT_RESPONSE: "Next response",
    Metric.RESOLUTION: "Resolution",
}

# A nudge counts as late (and says so) when it goes out this long after its planned instant.
LATE_AFTER = timedelta(seconds=60)


class DeliveryKind(StrEnum):
    """How one recipient of a nudge is reached."""

    THREAD = "thread"
    CHANNEL = "channel"
    DM = "dm"


@dataclass(frozen=True)
class NudgeTicket:
    """The ticket facts a nudge message needs (a projection of the ticket row)."""

    key: str
    channel_id: str
    thread_ts: str
    requester: str | None = None
    assignee: str | None = None
    responders: tuple[str, ...] = ()
    permalink: str | None = None

    @property
    def mentions(self) -> tuple[str, ...]:
        """Who a thread nudge pings: the assignee, else the channel's responders."""
        return (self.assignee,) if self.assignee else self.responders


@dataclass(frozen=True)
class Escalation:
    """Where a channel's breaches go: escalation channels and managers to DM."""

    channel_ids: tuple[str, ...] = ()
    manager_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NudgeFacts:
    """What to say: the metric, where it stands at send time, and when it was meant to go out."""

    metric: Metric
    threshold: float
    seq: int
    target: timedelta
    remaining: timedelta
    due_at: datetime | None
    planned_at: datetime
    now: datetime
    tz: str = "UTC"

    @property
    def is_breach(self) -> bool:
        """True for the breach nudge and the re-escalations after it."""
        return self.threshold >= 1.0

    @property
    def lateness(self) -> timedelta:
        """How long after its planned instant this nudge goes out."""
        return max(self.now - self.planned_at, timedelta(0))


@dataclass(frozen=True)
class Delivery:
    """One Slack destination of a nudge: a thread reply, a channel post or a DM."""

    kind: DeliveryKind
    target: str
    audience: Audience

    @property
    def key(self) -> str:
        """Stable name of this destination, used to remember which ones already got the nudge."""
        return f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class NudgeMessage:
    """Rendered nudge: fallback text (notifications, screen readers) and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


def plan_deliveries(
    audiences: Iterable[Audience], ticket: NudgeTicket, escalation: Escalation
) -> list[Delivery]:
    """Destinations for a nudge's audiences; audiences with nobody configured reach nobody."""
    wanted = set(audiences)
    out: list[Delivery] = []
    if Audience.THREAD in wanted:
        out.append(Delivery(DeliveryKind.THREAD, ticket.channel_id, Audience.THREAD))
    if Audience.ASSIGNEE in wanted and ticket.assignee:
        out.append(Delivery(DeliveryKind.DM, ticket.assignee, Audience.ASSIGNEE))
    if Audience.ESCALATION_CHANNEL in wanted:
        out.extend(
            Delivery(DeliveryKind.CHANNEL, channel, Audience.ESCALATION_CHANNEL)
            for channel in escalation.channel_ids
        )
    if Audience.MANAGERS in wanted:
        out.extend(
            Delivery(DeliveryKind.DM, user, Audience.MANAGERS) for user in escalation.manager_ids
        )
    # One message per destination even if a person is both assignee and manager.
    seen: set[str] = set()
    unique = []
    for delivery in out:
        if delivery.key not in seen:
            seen.add(delivery.key)
            unique.append(delivery)
    return unique


def zone_label(tz: str) -> str:
    """Short human name of an IANA zone: 'Europe/Berlin' -> 'Berlin', 'UTC' -> 'UTC'."""
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def format_instant(at: datetime, tz: str, now: datetime) -> str:
    """'10:30 Berlin' today, 'Tue 24 Nov 10:30 Berlin' on another local day."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M} {zone_label(tz)}"
    return f"{local:%a} {local.day} {local:%b %H:%M} {zone_label(tz)}"


def thread_permalink(workspace_url: str | None, channel_id: str, thread_ts: str) -> str | None:
    """Slack's permalink for a message from the workspace URL that auth.test returns."""
    if not workspace_url:
        return None
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    return f"{base}archives/{channel_id}/p{thread_ts.replace('.', '')}"


def headline(facts: NudgeFacts) -> str:
    """The sentence that says where the metric stands, in business time."""
    label = METRIC_LABELS[facts.metric]
    due = format_instant(facts.due_at, facts.tz, facts.now) if facts.due_at else None
    if not facts.is_breach:
        percent = round(facts.threshold * 100)
        left = format_business_duration(max(facts.remaining, timedelta(0)))
        when = f" ({due})" if due else ""
        return (
            f"{label} due in {left} of business time{when}: "
            f"{percent}% of the {format_business_duration(facts.target)} target is used."
        )
    overdue = format_business_duration(max(-facts.remaining, timedelta(0)))
    since = f" at {due}" if due else ""
    if facts.seq == 0 and -facts.remaining < timedelta(minutes=1):
        return f"{label} target of {format_business_duration(facts.target)} breached{since}."
    if facts.seq > 0:
        return (
            f"{label} target still breached: overdue by {overdue} of business time "
            f"(reminder {facts.seq})."
        )
    return (
        f"{label} target of {format_business_duration(facts.target)} breached{since}: "
        f"overdue by {overdue} of business time."
    )


def marker_for(nudge_id: int, delivery: Delivery) -> str:
    """The block_id that makes one nudge's message to one destination findable in Slack."""
    return f"slabot-nudge:{nudge_id}:{delivery.key}"


def render_nudge(
    facts: NudgeFacts, ticket: NudgeTicket, delivery: Delivery, *, marker: str | None = None
) -> NudgeMessage:
    """The message one destination receives for one nudge (`marker` becomes its block_id)."""
    icon = ":rotating_light:" if facts.is_breach else ":hourglass_flowing_sand:"
    body = f"{icon} *{ticket.key}* {headline(facts)}"
    if delivery.kind is DeliveryKind.THREAD and ticket.mentions:
        body += " " + " ".join(user_mention(user) for user in ticket.mentions)
    context: list[str] = []
    if delivery.kind is not DeliveryKind.THREAD:
        where = f"in {channel_mention(ticket.channel_id)}"
        link = link_to(ticket.permalink, "Open the thread") if ticket.permalink else None
        context.append(f"{where}: {link}" if link else where)
    if facts.lateness >= LATE_AFTER:
        context.append(f"sent {format_duration(facts.lateness)} late: the bot was offline")
    text = body + "".join(f"\n{line}" for line in context)
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": body}}
    if marker:
        section["block_id"] = marker
    blocks: list[dict[str, Any]] = [section]
    if context:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": line} for line in context],
            }
        )
    return NudgeMessage(text=text, blocks=blocks)


class NudgeNotifier(Protocol):
    """The part of the bot's notifier a nudge needs (see commands/deps.py)."""

    def post_thread_reply(self, channel: str, thread_ts: str, text: str, *,
                          blocks: Blocks | None = None) -> object: ...

    def post_message(self, channel: str, text: str, *, blocks: Blocks | None = None) -> object: ...

    def dm_user(self, user: str, text: str, *, blocks: Blocks | None = None) -> object: ...


@dataclass(frozen=True)
class DeliveryReport:
    """What happened to one nudge: destinations reached now, and the thread message ts."""

    delivered: tuple[str, ...]
    thread_ts: str | None


def _ts_of(response: object) -> str | None:
    if response is None:
        return None
    if isinstance(response, str):
        return response
    getter = getattr(response, "get", None)
    return getter("ts") if callable(getter) else getattr(response, "ts", None)


def deliver_nudge(
    notifier: NudgeNotifier,
    facts: NudgeFacts,
    ticket: NudgeTicket,
    deliveries: Sequence[Delivery],
    *,
    already: Iterable[str] = (),
    on_delivered: Callable[[Delivery, str | None], None] | None = None,
    marker: Callable[[Delivery], str] | None = None,
) -> DeliveryReport:
    """Send the nudge to each destination not in `already`; raises on the first failure.

    `on_delivered` runs after each successful call so the caller can record progress at
    once: a crash or error later in the list never repeats a destination already reached.
    """
    done = set(already)
    reached: list[str] = []
    thread_ts = None
    for delivery in deliveries:
        if delivery.key in done:
            continue
        message = render_nudge(facts, ticket, delivery, marker=marker(delivery) if marker else None)
        if delivery.kind is DeliveryKind.THREAD:
            response = notifier.post_thread_reply(
                ticket.channel_id, ticket.thread_ts, message.text, blocks=message.blocks
            )
        elif delivery.kind is DeliveryKind.CHANNEL:
            response = notifier.post_message(delivery.target, message.text, blocks=message.blocks)
        else:
            response = notifier.dm_user(delivery.target, message.text, blocks=message.blocks)
        ts = _ts_of(response)
        if delivery.kind is DeliveryKind.THREAD:
            thread_ts = ts
        reached.append(delivery.key)
        log_event(log, logging.INFO, "nudge delivered", ticket=ticket.key,
                  **nudge_fields(facts), destination=delivery.key)
        if on_delivered is not None:
            on_delivered(delivery, ts)
    return DeliveryReport(delivered=tuple(reached), thread_ts=thread_ts)
