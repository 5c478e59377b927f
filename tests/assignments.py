"""Giving a ticket to someone, as its history records it (slabot has no assign verb yet).

The first responder becomes a ticket's assignee on their own; tests that need another
person assigned, with the `assigned` history entry that responder figures read, use this.
"""

from __future__ import annotations

from commands.deps import Deps
from storage.repositories import ticket_events as event_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo


def assign(deps: Deps, *, team_id: str, key: str, assignee_id: str, by: str) -> None:
    """Record that `by` gave ticket `key` to `assignee_id` now."""
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        assert workspace.id is not None
        ticket = ticket_repo.get_ticket_by_key(session=session, workspace_id=workspace.id,
                                               key=key)
        assert ticket is not None, f"no ticket {key}"
        event_repo.append_event(session=session, ticket=ticket, kind="assigned",
                                 at=deps.clock.now(), actor_id=by, note=assignee_id)
