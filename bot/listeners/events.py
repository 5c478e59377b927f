"""Messages and reactions: read the event, hand it to the command that moves the ticket.

They reach `on_message` and `on_reaction_added` through the inbox (stored before the ack,
applied by the worker in bot/inbox.py, redeliveries settled there).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.listeners.answers import Respond, tell_privately
from commands import conversation, intake
from commands.deps import Deps
from commands.ids import Event
from commands.intake import is_human_message, is_thread_reply_event
from commands.tracking import SlackMessage, track_by_reaction

log = logging.getLogger(__name__)

TICKET_REACTION = "ticket"
SEEN_REACTION = "eyes"
DONE_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "white_tick"})
_TRACKED_REACTIONS = DONE_REACTIONS | {TICKET_REACTION, SEEN_REACTION}
# JSON may carry half a surrogate pair ("\ud800"), which no database can encode.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def team_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The workspace an event came from."""
    return body.get("team_id") or event.get("team") or ""


def wants_event(event: dict[str, Any]) -> bool:
    """Whether an inbox event can move a ticket (others are acked and forgotten): a person's
    message, or one of the reactions below by a person on a message."""
    if event.get("type") == Event.MESSAGE.value:
        return is_human_message(event) and all(
            isinstance(event.get(name), str) for name in ("channel", "user", "ts"))
    item = event.get("item")
    return (isinstance(item, dict) and item.get("type") == "message"
            and isinstance(item.get("channel"), str) and isinstance(item.get("ts"), str)
            and isinstance(event.get("user"), str) and isinstance(event.get("reaction"), str)
            and _reaction_name(event["reaction"]) in _TRACKED_REACTIONS)


def on_message(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Top-level messages in tracked channels become tickets; thread replies move tickets."""
    if not is_human_message(event):
        return
    team_id, channel_id, user_id = team_of(body, event), event["channel"], event["user"]
    if is_thread_reply_event(event):
        conversation.reply_in_thread(deps, team_id=team_id, channel_id=channel_id,
                                     thread_ts=event["thread_ts"], user_id=user_id)
        return
    intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=event["ts"], user_id=user_id,
        text=_text(event.get("text")), source="message", only_if_tracked=True,
    )


def _text(raw: Any) -> str:
    """Message text as stored: a lone surrogate (which no database encodes) is replaced."""
    text = raw if isinstance(raw, str) else ""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _reaction_name(raw: str) -> str:
    # Skin-tone variants arrive as "eyes::skin-tone-2".
    return raw.split("::", 1)[0]


def prepare_event(deps: Deps, event: dict[str, Any]) -> dict[str, Any] | None:
    """What an inbox event needs from Slack before its unit of work: the message a
    :ticket: reaction points at (None when Slack will not show it)."""
    if event.get("type") != Event.REACTION_ADDED.value:
        return None
    if _reaction_name(event.get("reaction", "")) != TICKET_REACTION:
        return None
    item = event["item"]
    return _fetch_message(deps, item["channel"], item["ts"])


def on_reaction_added(event: dict[str, Any], body: dict[str, Any], deps: Deps, *,
                      respond: Respond, message: dict[str, Any] | None) -> None:
    """:ticket: tracks a message, :eyes: is a first response, :white_check_mark: resolves.

    `message` is what `prepare_event` fetched; `respond` tells the reactor privately.
    """
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user"):
        return
    name = _reaction_name(event.get("reaction", ""))
    where = {"team_id": team_of(body, event), "channel_id": item["channel"], "ts": item["ts"]}
    if name == TICKET_REACTION:
        answer = track_by_reaction(
            deps, **where, author=(message or {}).get("user") or event.get("item_user"),
            message=None if message is None else _slack_message(message, item["ts"]),
        )
        if answer is not None:
            tell_privately(respond, answer)
    elif name == SEEN_REACTION:
        conversation.seen(deps, **where, user_id=event["user"])
    elif name in DONE_REACTIONS:
        conversation.done(deps, **where, user_id=event["user"])


def _slack_message(message: dict[str, Any], ts: str) -> SlackMessage:
    return SlackMessage(
        ts=ts, user_id=message.get("user"), text=_text(message.get("text")),
        thread_ts=message.get("thread_ts"),
        from_bot=bool(message.get("bot_id")) or message.get("subtype") == "bot_message",
    )


def _fetch_message(deps: Deps, channel_id: str, ts: str) -> dict[str, Any] | None:
    """The message at `ts` (top-level or a reply), or None when Slack will not show it."""
    try:
        response = deps.client.conversations_replies(channel=channel_id, ts=ts, limit=1)
    except Exception as exc:
        log.info("could not fetch message %s/%s: %s", channel_id, ts, exc.__class__.__name__)
        return None
    for message in response.get("messages") or []:
        if message.get("ts") == ts:
            return dict(message)
    return None
