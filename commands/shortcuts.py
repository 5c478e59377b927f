"""Message shortcut "Track as SLA ticket": any message in any channel becomes a ticket."""

from __future__ import annotations

from typing import Any

from commands import intake
from commands.deps import Deps
from commands.errors import errors_to_user

# Replies in a thread count toward the ticket of the thread's first message (they are matched
# by the thread's ts), so a reply tracked on its own would never see its answers.
THREAD_REPLY_REFUSAL = (
    ":thread: This is a reply in a thread, and replies count toward the thread's first "
    "message. Please track the thread's first message instead."
)


def on_track_message(body: dict[str, Any], respond, deps: Deps) -> None:
    """Track the message the shortcut was used on; tell the user privately which ticket it is.

    Applied through the inbox (bot/inbox.py); `respond` answers through the outbox.
    """
    with errors_to_user(respond):
        _track(body, respond, deps)


def _track(body: dict[str, Any], respond, deps: Deps) -> None:
    message = body.get("message") or {}
    team_id = (body.get("team") or {}).get("id") or ""
    channel_id = (body.get("channel") or {}).get("id") or ""
    ts = message.get("ts") or body.get("message_ts")
    if message.get("bot_id") or not message.get("user"):
        respond(text="Only messages written by people can become SLA tickets.",
                response_type="ephemeral")
        return
    if is_thread_reply(message, ts):
        respond(text=THREAD_REPLY_REFUSAL, response_type="ephemeral", replace_original=False)
        return
    result = intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=ts, user_id=message["user"],
        text=message.get("text") or "", source="shortcut",
    )
    if result is None:
        respond(text="That message has no Slack timestamp; it cannot become a ticket.",
                response_type="ephemeral", replace_original=False)
        return
    key = result.ticket.key
    if result.created:
        text = f":ticket: Tracking this message as *{key}* ({result.clock.priority})."
    else:
        text = f"This message is already tracked as *{key}*."
    respond(text=text, response_type="ephemeral", replace_original=False)


def is_thread_reply(message: dict[str, Any], ts: str | None) -> bool:
    """True for a reply inside a thread (a thread's first message has thread_ts == ts)."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != ts
