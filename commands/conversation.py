"""What people's replies and reactions do to a ticket: a thread reply or :eyes: answers it,
a requester's reply restarts the wait for the team, a done reaction on its message resolves it.

Called by the event listeners (bot/listeners/events.py) once an event is read.
"""

from __future__ import annotations

from commands import lifecycle
from commands.deps import Deps
from storage.models import stored_id
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo


def reply_in_thread(deps: Deps, *, team_id: str, channel_id: str, thread_ts: str,
                    user_id: str) -> None:
    """A person replied in a ticket's thread: the team's answer, or the requester's word."""
    result = lifecycle.record_response(
        deps, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id,
        responders=responders(deps, team_id, channel_id),
    )
    if result is not None and not result.changed and result.ticket.requester_id == user_id:
        lifecycle.requester_replied(
            deps, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id
        )


def seen(deps: Deps, *, team_id: str, channel_id: str, ts: str, user_id: str) -> None:
    """:eyes: on a ticket's message: a first response, as a reply would be."""
    lifecycle.record_response(
        deps, team_id=team_id, channel_id=channel_id, thread_ts=ts, user_id=user_id,
        responders=responders(deps, team_id, channel_id),
    )


def done(deps: Deps, *, team_id: str, channel_id: str, ts: str, user_id: str) -> None:
    """A done reaction resolves the ticket whose own root message it is on (quietly)."""
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_workspace(session=session, team_id=team_id)
        if workspace is None:
            return
        ticket = ticket_repo.get_ticket_by_message(
            session=session, workspace_id=stored_id(workspace), channel_id=channel_id, message_ts=ts
        )
    if ticket is None:
        return
    lifecycle.resolve(deps, team_id=team_id, user_id=user_id, key=ticket.key, quiet=True)


def responders(deps: Deps, team_id: str, channel_id: str) -> frozenset[str]:
    """The channel's configured responders (`/sla responders`)."""
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_workspace(session=session, team_id=team_id)
        if workspace is None:
            return frozenset()
        channel = workspace_repo.get_channel(
            session=session, workspace_id=stored_id(workspace), channel_id=channel_id
        )
        return frozenset(channel.responder_user_ids or ()) if channel else frozenset()
