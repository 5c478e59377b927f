"""Thin Bolt listeners (parse, call a command, draw) and THE registration list of what Slack sends.

One line per registration: `register(app)` attaches what Bolt routes (bot/app.py calls it
once); what changes tickets is stored in the inbox before its ack and applied by its worker
(bot/inbox.py), which dispatches through INBOX_EVENTS, INBOX_ACTIONS and INBOX_SHORTCUTS.
The manifest and these lists are checked against each other (tests/bot/test_manifest.py).
"""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import buttons, home, shortcuts
from bot.listeners.events import on_message, on_reaction_added, prepare_event, wants_event
from bot.listeners.sla_command import make_sla_listener
from commands.ids import Action, Callback, Command, Event

__all__ = [
    "INBOX_ACTIONS",
    "INBOX_EVENTS",
    "INBOX_SHORTCUTS",
    "on_message",
    "on_reaction_added",
    "prepare_event",
    "register",
    "wants_event",
]


def register(app: App) -> None:
    """Attach every slash command, action and event listener Bolt answers itself."""
    app.command(Command.SLA.value)(make_sla_listener())
    app.action(Action.EXPLAIN.value)(buttons.on_explain)
    app.event(Event.APP_HOME_OPENED.value)(home.on_app_home_opened)


# Stored in the inbox before their ack and applied by its worker (bot/inbox.py).
INBOX_EVENTS = frozenset({Event.MESSAGE.value, Event.REACTION_ADDED.value})
INBOX_ACTIONS = buttons.INBOX_ACTIONS
INBOX_SHORTCUTS = {Callback.TRACK_MESSAGE.value: shortcuts.on_track_message}
