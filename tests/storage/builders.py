"""Small builders for storage tests: a workspace, a channel, tickets at given instants."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from storage import repositories as repo
from storage.models import Ticket

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC: business hours start
ALWAYS = Policy.default(BusinessCalendar.always())
H = timedelta(hours=1)
# Office hours in Paris, with next-response targets for P2 and P3.
OFFICE = Policy.default(
    BusinessCalendar("Europe/Paris", BusinessCalendar.parse_hours("Mon-Fri 09:00-17:00"))
).with_target("P2", "next_response", 2 * H).with_target("P3", "next_response", 4 * H)
PRIORITIES = ["P1", "P2", "P3", "P4"]


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


def random_history(rng: random.Random, created: datetime, *, before: datetime):
    """A plausible ticket life before ``before``: (kind, at, priority) of responses, requester
    replies, pauses, resolution, reopening and priority changes."""
    events, at = [], created
    for _ in range(rng.randint(0, 6)):
        at += timedelta(minutes=rng.randint(5, 60 * 30))
        if at >= before:
            break
        kind = rng.choice([EventKind.RESPONDED, EventKind.RESPONDED, EventKind.REQUESTER_REPLIED,
                           EventKind.PAUSED, EventKind.RESUMED, EventKind.RESOLVED,
                           EventKind.REOPENED, EventKind.PRIORITY_CHANGED])
        priority = rng.choice(PRIORITIES) if kind is EventKind.PRIORITY_CHANGED else None
        events.append((kind, at, priority))
    return events


def random_tickets(session, ws, rng: random.Random, count: int, *, days: int,
                   stored_at: datetime) -> list[tuple[Ticket, list[ClockEvent]]]:
    """``count`` tickets created over the ``days`` before ``stored_at`` in channels C1 and C2,
    some assigned, with random histories; their ``OFFICE`` clocks computed and stored at
    ``stored_at``. Each comes with its clock events (to compute its clock at another time)."""
    made = []
    for n in range(count):
        created = stored_at - timedelta(minutes=rng.randint(10, 60 * 24 * days))
        row = ticket(session, ws, f"{n}.0", at=created, channel=rng.choice(["C1", "C1", "C2"]),
                     priority=rng.choice(PRIORITIES), policy=None)
        if rng.random() < 0.3:
            repo.set_assignee(session=session, ticket=row, assignee_id="U_AGENT")
        for kind, at, priority in random_history(rng, created, before=stored_at):
            repo.append_event(session=session, ticket=row, kind=kind, at=at, priority=priority)
        events = repo.load_clock_events(session=session, ticket_id=row.id)
        repo.apply_clock(session=session, ticket=row, clock=compute_clock(events, OFFICE,
                                                                          stored_at))
        made.append((row, events))
    return made
