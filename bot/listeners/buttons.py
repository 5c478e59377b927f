"""The ticket card's buttons: priority P1-P4, pause/resume, resolve, reopen, take it, explain.

Each button's value is the ticket key. Moves are applied through the inbox (stored before
the ack, bot/inbox.py) and made by commands.tickets; refusals (for example pausing a ticket
someone just resolved) are told only to the person who pressed, through `respond`. Explain
is a read: a normal Bolt action answered at once, only to the presser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack

from bot.listeners.answers import Respond, errors_to_user, tell_privately
from commands import tickets
from commands.assign import press_take
from commands.deps import Deps
from commands.explain import explain_ticket
from commands.ids import PRIORITY_ACTIONS, Action
from sla.targets import Priority

_PRIORITY_OF = dict(zip(PRIORITY_ACTIONS, Priority, strict=True))
_MOVE_OF = {
    Action.PAUSE: "pause",
    Action.RESUME: "resume",
    Action.RESOLVE: "resolve",
    Action.REOPEN: "reopen",
}


@dataclass(frozen=True)
class _Press:
    """A block_actions payload read: who pressed what, for which ticket, where."""

    team_id: str
    user_id: str
    key: str
    action: Action
    channel_id: str | None


def _pressed(body: dict[str, Any]) -> _Press:
    action = body["actions"][0]
    team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    channel = (body.get("channel") or {}).get("id") or (
        body.get("container") or {}).get("channel_id")
    return _Press(team_id or "", body["user"]["id"], str(action["value"]),
                  Action(action["action_id"]), channel)


def on_priority(body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """A priority button (applied by the inbox's worker)."""
    press = _pressed(body)
    with errors_to_user(respond):
        tickets.press_priority(deps, team_id=press.team_id, user_id=press.user_id,
                               key=press.key, pressed_in=press.channel_id,
                               priority=_PRIORITY_OF[press.action])


def on_move(body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """A pause, resume, resolve or reopen button (applied by the inbox's worker)."""
    press = _pressed(body)
    with errors_to_user(respond):
        tickets.press_move(deps, _MOVE_OF[press.action], team_id=press.team_id,
                           user_id=press.user_id, key=press.key, pressed_in=press.channel_id)


def on_take(body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """Take it: the ticket goes to whoever pressed (applied by the inbox's worker); pressing
    it on a ticket already yours is answered only to you."""
    press = _pressed(body)
    with errors_to_user(respond):
        result = press_take(deps, team_id=press.team_id, user_id=press.user_id, key=press.key,
                            pressed_in=press.channel_id)
        if not result.changed:
            tell_privately(respond, result)


def on_explain(ack: Ack, body: dict[str, Any], respond: Respond,
               deps: Deps) -> None:
    """The Explain button: the ticket's ledger, privately."""
    ack()
    with errors_to_user(respond):
        press = _pressed(body)
        result = explain_ticket(deps, team_id=press.team_id, user_id=press.user_id,
                                channel_id=press.channel_id or "", key=press.key)
        tell_privately(respond, result)


# Every card button that moves a ticket, applied through the inbox.
INBOX_ACTIONS: dict[str, Callable[[dict[str, Any], Respond, Deps], None]] = {
    **{action.value: on_priority for action in PRIORITY_ACTIONS},
    **{action.value: on_move for action in _MOVE_OF},
    Action.TAKE.value: on_take,
}
