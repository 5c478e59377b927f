"""Ticket card buttons: priority P1-P4, pause/resume, resolve, reopen.

Each button's value is the ticket key. Listeners ack first (Slack waits 3 s at most), then
move the ticket through commands.lifecycle, which updates the card in place. Refusals (for
example pausing a ticket someone just resolved) are told only to the person who pressed.
A button moves only a ticket of the channel it was pressed in (the card in the thread, or the
`/sla ticket` card there): a channel only ever sees its own tickets.
"""

from __future__ import annotations

import logging
from typing import Any

from commands import lifecycle
from commands.deps import Deps
from commands.errors import NotFound, errors_to_user
from commands.ids import Action
from sla.policy import Priority

log = logging.getLogger(__name__)

_PRIORITY_OF = {
    Action.PRIORITY_P1: Priority.P1,
    Action.PRIORITY_P2: Priority.P2,
    Action.PRIORITY_P3: Priority.P3,
    Action.PRIORITY_P4: Priority.P4,
}


def _pressed(body: dict[str, Any]) -> tuple[str, str, str]:
    """(team id, user id, ticket key) of a block_actions payload."""
    action = body["actions"][0]
    team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return team_id or "", body["user"]["id"], action["value"]


def _ticket_here(deps: Deps, body: dict[str, Any], team_id: str,
                 key: str) -> lifecycle.TicketResult:
    """The ticket `key` if it belongs to the channel the button was pressed in.

    Another channel's ticket gets the same answer as an unknown key, so a crafted payload
    learns nothing about tickets elsewhere.
    """
    found = lifecycle.get_ticket(deps, team_id=team_id, key=key)
    pressed_in = (body.get("channel") or {}).get("id") or (
        body.get("container") or {}).get("channel_id")
    if found.ticket.channel_id != pressed_in:
        raise NotFound(f"There is no ticket {key} in this workspace.")
    return found


def on_priority(ack, body: dict[str, Any], respond, deps: Deps) -> None:
    """A priority button: P1..P4; the thread is told who changed it and from what."""
    ack()
    team_id, user_id, key = _pressed(body)
    priority = _PRIORITY_OF[Action(body["actions"][0]["action_id"])]
    with errors_to_user(respond):
        before = _ticket_here(deps, body, team_id, key)
        was = before.clock.priority  # the requester may raise it, not lower it (lifecycle)
        result = lifecycle.set_priority(deps, team_id=team_id, user_id=user_id, key=key,
                                        priority=priority)
        if result.changed:
            _note_in_thread(deps, result.ticket,
                            f"Priority set to {priority} by <@{user_id}> (was {was})")


def _note_in_thread(deps: Deps, ticket: Any, text: str) -> None:
    # The change is already made and shown on the card; a failed note must not undo or hide it.
    try:
        deps.notifier.post_thread_reply(ticket.channel_id, ticket.thread_ts, text)
    except Exception as exc:
        log.warning("could not post a note in %s's thread: %s", ticket.key,
                    exc.__class__.__name__)


def _move_button(move: Any, doc: str) -> Any:
    """A card button that makes one lifecycle move on the ticket it was pressed for."""

    def on_move(ack, body: dict[str, Any], respond, deps: Deps) -> None:
        ack()
        team_id, user_id, key = _pressed(body)
        with errors_to_user(respond):
            _ticket_here(deps, body, team_id, key)
            move(deps, team_id=team_id, user_id=user_id, key=key)

    on_move.__doc__ = doc
    return on_move


on_pause = _move_button(lifecycle.pause, "Pause button.")
on_resume = _move_button(lifecycle.resume, "Resume button.")
on_resolve = _move_button(lifecycle.resolve, "Resolve button.")
on_reopen = _move_button(lifecycle.reopen, "Reopen button (shown on resolved tickets).")
