"""The ticket card posted in a ticket's thread and redrawn in place as the ticket changes.

Plain data in, dicts out: no Slack calls, no database, `now` passed in. The outbox sender
draws it when it sends (bot/outbox.py), from the ticket as it is then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.views.formats import METRIC_LABELS, PRIORITY_EMOJI, due_text, excerpt, place_name
from commands.ids import PRIORITY_ACTIONS, Action, Block
from commands.text import escape_mrkdwn, user_mention
from sla.clock import TicketClock
from sla.targets import Priority

_PRIORITY_ACTIONS = dict(zip(Priority, PRIORITY_ACTIONS, strict=True))


class TicketLike(Protocol):
    """The ticket fields a card shows (a storage Ticket row satisfies it)."""

    key: str
    priority: str
    status: str
    requester_id: str
    assignee_id: str | None
    text: str
    channel_id: str


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
    return f"{ticket.key} · {clock.priority} · {_status_label(clock)}"


def _status_label(clock: TicketClock) -> str:
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
        f"{_status_label(clock)}\n{people}"
    )
    if ticket.text.strip():
        # The requester's words are shown, never run: a typed <!channel> must not ping.
        header += f"\n>{escape_mrkdwn(excerpt(ticket.text))}"
    due_fields = [
        {"type": "mrkdwn", "text": f"*{METRIC_LABELS[metric]}*\n{due_text(mc, tz, now)}"}
        for metric, mc in clock.metrics.items()
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": Block.CARD_HEADER.value,
         "text": {"type": "mrkdwn", "text": header}},
    ]
    if due_fields:
        blocks.append({"type": "section", "block_id": Block.CARD_DUE.value,
                       "fields": due_fields})
    blocks.append({"type": "actions", "block_id": Block.CARD_ACTIONS.value,
                   "elements": _buttons(ticket.key, clock)})
    blocks.append({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Times in {place_name(tz)} time · "
                      "react :eyes: when you are on it, :white_check_mark: when done"}],
    })
    return blocks


def _buttons(key: str, clock: TicketClock) -> list[dict[str, Any]]:
    """Reopen on a resolved ticket; else the priorities, pause or resume, resolve, take it."""
    elements: list[dict[str, Any]] = []
    if clock.resolved:
        elements.append(_button("Reopen", Action.REOPEN, key))
    else:
        for p, action in _PRIORITY_ACTIONS.items():
            style = "primary" if p == clock.priority else None
            elements.append(_button(p.value, action, key, style))
        if clock.paused:
            elements.append(_button(":arrow_forward: Resume", Action.RESUME, key))
        else:
            elements.append(_button(":double_vertical_bar: Pause", Action.PAUSE, key))
        elements.append(_button(":white_check_mark: Resolve", Action.RESOLVE, key, "primary"))
        elements.append(_button(":raising_hand: Take it", Action.TAKE, key))
    elements.append(_button(":mag: Explain", Action.EXPLAIN, key))
    return elements
