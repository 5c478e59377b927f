"""Message shortcut "Track as SLA ticket": any message in any channel becomes a ticket.

Applied through the inbox (bot/inbox.py); `respond` answers privately through the outbox.
"""

from __future__ import annotations

from typing import Any

from bot.listeners.answers import Respond, errors_to_user, tell_privately
from commands.deps import Deps
from commands.tracking import SlackMessage, track_by_shortcut


def on_track_message(body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """Track the message the shortcut was used on; tell the user privately which ticket it is."""
    with errors_to_user(respond):
        message = body.get("message") or {}
        result = track_by_shortcut(
            deps,
            team_id=(body.get("team") or {}).get("id") or "",
            channel_id=(body.get("channel") or {}).get("id") or "",
            message=SlackMessage(
                ts=message.get("ts") or body.get("message_ts"),
                user_id=message.get("user"),
                text=message.get("text") or "",
                thread_ts=message.get("thread_ts"),
                from_bot=bool(message.get("bot_id")),
            ),
        )
        tell_privately(respond, result)
