"""Ticket card buttons: priority P1-P4, pause/resume, resolve, reopen.

Each button's value is the ticket key. A press is stored in the inbox before Slack gets its
ack (bot/inbox.py); its worker calls the handler here, which moves the ticket through
commands.lifecycle (the card redraw and any thread note are queued in the outbox in the same
unit of work). Refusals (for example pausing a ticket someone just resolved) are told only
to the person who pressed, through `respond`.
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
from sla.targets import Priority
from storage.repositories import outbox as outbox_repo

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


def on_priority(body: dict[str, Any], respond, deps: Deps) -> None:
    """A priority button: P1..P4; the thread is told who changed it and from what."""
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
    # Queued with the change it reports (one note per version of the ticket).
    with deps.unit_of_work() as session:
        outbox_repo.queue_write(
            session=session, key=f"note:{ticket.id}:v{ticket.version}", kind=outbox_repo.POST,
            ticket_id=ticket.id, channel_id=ticket.channel_id, thread_ts=ticket.thread_ts,
            text=text, at=deps.clock.now(),
        )
    deps.wake_outbox()


def _move_button(move: Any, doc: str) -> Any:
    """A card button that makes one lifecycle move on the ticket it was pressed for."""

    def on_move(body: dict[str, Any], respond, deps: Deps) -> None:
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

# Every card button, applied through the inbox (the manifest's interactivity serves them).
INBOX_ACTIONS: dict[str, Any] = {
    Action.PRIORITY_P1.value: on_priority,
    Action.PRIORITY_P2.value: on_priority,
    Action.PRIORITY_P3.value: on_priority,
    Action.PRIORITY_P4.value: on_priority,
    Action.PAUSE.value: on_pause,
    Action.RESUME.value: on_resume,
    Action.RESOLVE.value: on_resolve,
    Action.REOPEN.value: on_reopen,
}
