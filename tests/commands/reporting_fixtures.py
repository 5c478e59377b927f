"""Small builders for report and digest tests: real tickets in the real database."""

from __future__ import annotations

from datetime import UTC, datetime

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import EventKind
from sla.policy import Policy
from storage.repositories.ticket_clock import apply_clock
from storage.repositories.ticket_events import append_event, load_clock_events
from storage.repositories.tickets import create_ticket
from storage.repositories.workspaces import get_or_create_workspace, save_policy

TEAM = "T0ACME"


def utc(*args) -> datetime:
    """An aware UTC instant."""
    return datetime(*args, tzinfo=UTC)


def always_policy() -> Policy:
    """The stock targets (P1 15m/4h, P2 1h/8h, P3 4h/24h, P4 8h/40h) on a 24x7 calendar."""
    return Policy.default(calendar=BusinessCalendar.always())


def workspace(
    session, *, policy: Policy | None = None, tz: str = "UTC", team_id: str = TEAM
) -> int:
    """Create (or reuse) the test workspace with `policy` as its default; returns its id."""
    ws = get_or_create_workspace(session=session, team_id=team_id, tz=tz)
    save_policy(session=session, workspace_id=ws.id, policy=policy or always_policy())
    return ws.id


def ticket(
    session,
    workspace_id: int,
    *,
    channel: str,
    priority: str,
    created: datetime,
    events: tuple[tuple[EventKind, datetime], ...] = (),
    policy: Policy | None = None,
):
    """A ticket created at `created`, moved by `events`, its clock stored as the bot would."""
    policy = policy or always_policy()
    ts = f"{created.timestamp():.6f}"
    row = create_ticket(
        session=session,
        workspace_id=workspace_id,
        channel_id=channel,
        message_ts=ts,
        requester_id="U0REQUESTER",
        priority=priority,
        created_at=created,
        text=f"help needed at {created:%a %H:%M}",
        permalink=f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        policy=policy,
    )
    last = created
    for kind, at in events:
        append_event(session=session, ticket=row, kind=kind, at=at, actor_id="U0AGENT")
        last = at
    clock = compute_clock(load_clock_events(session=session, ticket_id=row.id), policy, last)
    apply_clock(session=session, ticket=row, clock=clock)
    return row
