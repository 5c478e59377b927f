"""The one error handler: people get a friendly message, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.listeners.answers import Respond
from commands.errors import friendly_message, report_error

log = logging.getLogger(__name__)

__all__ = ["friendly_message", "register"]


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and user an error reply should go to, from any kind of payload."""
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    event = body.get("event") or {}
    channel = channel or event.get("channel") or (event.get("item") or {}).get("channel")
    user = user or event.get("user")
    return channel, user


def register(app: App) -> None:
    """Install the global error handler on `app`."""

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Respond,
                     context: BoltContext) -> None:
        text = report_error(error)
        try:
            if body.get("response_url") or body.get("command"):
                respond(text=text, response_type="ephemeral", replace_original=False)
                return
            channel, user = _where(body)
            deps = context.get("deps")
            # Events have no response_url and no one waiting: the log has it all.
            if deps is not None and channel and user and body.get("type") != "event_callback":
                deps.notifier.post_ephemeral(channel, user, text)
        except Exception:
            log.exception("could not tell the user about an error")
