"""Slack event handlers: messages, reactions and the App Home tab.

Thin by design: read the payload, decide which lifecycle move it is, call commands.lifecycle.
Messages and reactions reach `on_message` and `on_reaction_added` through the inbox (stored
before the ack, applied by the worker in bot/inbox.py, redeliveries settled there); the App
Home tab is a Bolt listener (a read and a views.publish, no state).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from commands import intake, lifecycle
from commands.deps import Deps
from commands.ids import Event
from commands.intake import is_human_message, is_thread_reply_event
from commands.shortcuts import THREAD_REPLY_REFUSAL, is_thread_reply
from commands.timezones import user_tz
from commands.views import HomeItem, render_home
from sla.clock import compute_clock
from storage.repositories import ticket_events as event_repo
from storage.repositories import ticket_lists as list_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)

TICKET_REACTION = "ticket"
SEEN_REACTION = "eyes"
DONE_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "white_tick"})
_TRACKED_REACTIONS = DONE_REACTIONS | {TICKET_REACTION, SEEN_REACTION}
# JSON may carry half a surrogate pair ("\ud800"), which no database can encode.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def register(app: App) -> None:
    """Attach the Bolt event listeners (with INBOX_EVENTS, the manifest's bot_events)."""
    app.event(Event.APP_HOME_OPENED.value)(on_app_home_opened)


# Events stored in the inbox before their ack and applied by its worker (bot/inbox.py).
INBOX_EVENTS = frozenset({Event.MESSAGE.value, Event.REACTION_ADDED.value})


def _team_id(body: dict[str, Any], event: dict[str, Any]) -> str:
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
    team_id, channel_id, user_id = _team_id(body, event), event["channel"], event["user"]
    ts, thread_ts = event["ts"], event.get("thread_ts")
    if is_thread_reply_event(event):
        _on_thread_reply(deps, team_id, channel_id, thread_ts, user_id)
        return
    intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=ts, user_id=user_id,
        text=_text(event.get("text")), source="message", only_if_tracked=True,
    )


def _text(raw: Any) -> str:
    """Message text as stored: a lone surrogate (which no database encodes) is replaced."""
    text = raw if isinstance(raw, str) else ""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _on_thread_reply(deps: Deps, team_id: str, channel_id: str, thread_ts: str,
                     user_id: str) -> None:
    responders = _responders(deps, team_id, channel_id)
    result = lifecycle.record_response(
        deps, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id,
        responders=responders,
    )
    if result is not None and not result.changed and result.ticket.requester_id == user_id:
        lifecycle.requester_replied(
            deps, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id
        )


def _responders(deps: Deps, team_id: str, channel_id: str) -> frozenset[str]:
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_workspace(session=session, team_id=team_id)
        if workspace is None:
            return frozenset()
        channel = workspace_repo.get_channel(
            session=session, workspace_id=workspace.id, channel_id=channel_id
        )
        return frozenset(channel.responder_user_ids or ()) if channel else frozenset()


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
                      respond: Any, message: dict[str, Any] | None) -> None:
    """:ticket: tracks a message, :eyes: is a first response, :white_check_mark: resolves.

    `message` is what `prepare_event` fetched; `respond` tells the reactor privately.
    """
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user"):
        return
    name = _reaction_name(event.get("reaction", ""))
    team_id, channel_id, ts = _team_id(body, event), item["channel"], item["ts"]
    user_id = event["user"]
    if name == TICKET_REACTION:
        _track_reacted_message(deps, team_id, channel_id, ts, event.get("item_user"),
                               message, respond)
    elif name == SEEN_REACTION:
        lifecycle.record_response(
            deps, team_id=team_id, channel_id=channel_id, thread_ts=ts, user_id=user_id,
            responders=_responders(deps, team_id, channel_id),
        )
    elif name in DONE_REACTIONS:
        _resolve_by_reaction(deps, team_id, channel_id, ts, user_id)


def _resolve_by_reaction(deps: Deps, team_id: str, channel_id: str, ts: str,
                         user_id: str) -> None:
    # Only a reaction on the ticket's own root message resolves it.
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_workspace(session=session, team_id=team_id)
        if workspace is None:
            return
        ticket = ticket_repo.get_ticket_by_message(
            session=session, workspace_id=workspace.id, channel_id=channel_id, message_ts=ts
        )
    if ticket is None:
        return
    lifecycle.resolve(deps, team_id=team_id, user_id=user_id, key=ticket.key, quiet=True)


def _track_reacted_message(deps: Deps, team_id: str, channel_id: str, ts: str,
                           item_user: str | None, message: dict[str, Any] | None,
                           respond: Any) -> None:
    author = (message or {}).get("user") or item_user
    if message is not None and (message.get("bot_id") or message.get("subtype") == "bot_message"):
        return  # the bot's own cards and other bots' posts are not requests
    if not author:
        log.info("cannot track %s/%s: its author is unknown", channel_id, ts)
        return
    if message is not None and is_thread_reply(message, ts):
        respond(text=THREAD_REPLY_REFUSAL)
        return
    intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=ts, user_id=author,
        text=_text((message or {}).get("text")), source="reaction",
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
            return message
    return None


def on_app_home_opened(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Publish the user's App Home: their open tickets and those at risk."""
    if event.get("tab") not in (None, "home") or not isinstance(event.get("user"), str):
        return
    user_id, team_id = event["user"], _team_id(body, event)
    now = deps.clock.now()
    items: list[HomeItem] = []
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        tz_fallback = workspace.tz
        rows = list_repo.list_open_tickets(session=session, workspace_id=workspace.id,
                                             involving=user_id, limit=500)
        policies: dict[str, Any] = {}
        for ticket in rows:
            policy = policies.get(ticket.channel_id)
            if policy is None:
                policy = workspace_repo.get_policy(
                    session=session, workspace_id=workspace.id, channel_id=ticket.channel_id
                )
                policies[ticket.channel_id] = policy
            events = event_repo.load_clock_events(session=session, ticket_id=ticket.id)
            items.append(HomeItem(
                key=ticket.key, priority=ticket.priority, status=ticket.status,
                channel_id=ticket.channel_id, title=ticket.title, permalink=ticket.permalink,
                clock=compute_clock(events, policy, now),
            ))
    tz = user_tz(deps, user_id, tz_fallback)
    deps.notifier.publish_home(user_id, render_home(user_id, items, tz, now))
