"""The `/sla` command surface and THE registration list of what Bolt routes.

One line per registration (bot/app.py calls `register(app)` once). Card buttons and the
message shortcut change tickets, so they go through the inbox instead (stored before the
ack): their handlers are listed in `actions.INBOX_ACTIONS` and `INBOX_SHORTCUTS` below. Bot
events are in bot/listeners.py.
"""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Attach every slash command, action, view and shortcut listener to the Bolt `app`."""
    from commands.explain import on_explain_button
    from commands.ids import Action, Command
    from commands.router import make_sla_listener

    app.command(Command.SLA.value)(make_sla_listener())
    app.action(Action.EXPLAIN.value)(on_explain_button)


def inbox_shortcuts() -> dict[str, Any]:
    """Message shortcuts applied through the inbox, by callback_id."""
    from commands import shortcuts
    from commands.ids import Callback

    return {Callback.TRACK_MESSAGE.value: shortcuts.on_track_message}
