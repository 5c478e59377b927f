"""The `/sla` command surface and THE registration list of every command, action, view and shortcut.

One line per registration (bot/app.py calls `register(app)` once). Bot events (message,
reaction_added, app_home_opened) are registered in bot/listeners.py.
"""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Attach every slash command, action, view and shortcut listener to the Bolt `app`."""
    from commands import actions, shortcuts
    from commands.ids import Action, Callback, Command
    from commands.router import make_sla_listener

    app.command(Command.SLA.value)(make_sla_listener())
    app.action(Action.PRIORITY_P1.value)(actions.on_priority)
    app.action(Action.PRIORITY_P2.value)(actions.on_priority)
    app.action(Action.PRIORITY_P3.value)(actions.on_priority)
    app.action(Action.PRIORITY_P4.value)(actions.on_priority)
    app.action(Action.PAUSE.value)(actions.on_pause)
    app.action(Action.RESUME.value)(actions.on_resume)
    app.action(Action.RESOLVE.value)(actions.on_resolve)
    app.action(Action.REOPEN.value)(actions.on_reopen)
    app.shortcut(Callback.TRACK_MESSAGE.value)(shortcuts.on_track_message)
