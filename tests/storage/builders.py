"""Small builders for storage tests: a workspace, a channel, tickets at given instants."""

from __future__ import annotations

from datetime import UTC, datetime

from sla.calendar import BusinessCalendar
from sla.policy import Policy
from storage import repositories as repo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC: business hours start
ALWAYS = Policy.default(BusinessCalendar.always())


def workspace(session, team_id: str = "T1"):
    """A workspace with one tracked channel C1."""
    ws = repo.get_or_create_workspace(session=session, team_id=team_id)
    repo.track_channel(session=session, workspace_id=ws.id, channel_id="C1", name="support")
    return ws


def ticket(session, ws, ts: str, *, at: datetime = T0, channel: str = "C1", priority="P3",
           policy: Policy | None = ALWAYS, text: str = "Printer on fire"):
    """A ticket for message ``ts`` created at ``at`` (with due columns from ``policy``)."""
    return repo.create_ticket(
        session=session, workspace_id=ws.id, channel_id=channel, message_ts=ts,
        requester_id="U_REQ", priority=priority, created_at=at, text=text, policy=policy,
    )
