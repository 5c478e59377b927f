"""Ninety days of plausible #support history for the demo database.

Tickets arrive on business days (Mon-Fri 09:00-17:00 Berlin, German public holidays closed),
a few in the evening or at the weekend; most are answered and solved well inside their
targets, some only just (near misses), some late (breaches); a few wait on the requester
(paused) or come back after being solved (reopened). Each ticket's clock is the real
`sla.clock.compute_clock` over its events under that business-hours policy, and everything
is written through the repositories in one transaction with bulk inserts, so the seed takes
well under a second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority
from storage.models import stored_id
from storage.repositories import ticket_events as event_repo
from storage.repositories import tickets as ticket_repo

HISTORY_TZ = "Europe/Berlin"
HISTORY_DAYS = 90
_HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}

_REQUESTS = {
    Priority.P1: (
        "Checkout is down for every customer, outage since a few minutes",
        "P1: login fails with 500 for all users",
        "Payments API returns timeouts, sev1",
        "Emergency: the warehouse scanners lost their connection",
    ),
    Priority.P2: (
        "Urgent: invoices for November show the wrong VAT rate",
        "Password reset emails are not arriving, asap please",
        "Exports to the data warehouse stopped last night (urgent)",
        "The mobile app crashes when opening an order, sev2",
    ),
    Priority.P3: (
        "Can someone give Lena access to the reporting dashboard?",
        "The CSV export puts dates in US format",
        "A customer asks why their refund shows twice",
        "Please add the new Lyon office to the shipping zones",
        "Search does not find orders by the old reference numbers",
        "Our VPN profile expired on two laptops",
        "The onboarding checklist link is broken",
        "Could we get a copy of last month's SLA report?",
    ),
    Priority.P4: (
        "Typo on the pricing page: 'recieve'",
        "Nice to have: dark mode in the admin console",
        "Question: where do I change my notification settings?",
        "The team photo on the intranet is from 2019",
    ),
}
_PRIORITY_WEIGHTS = {Priority.P1: 4, Priority.P2: 16, Priority.P3: 58, Priority.P4: 22}


def history_policy() -> Policy:
    """The policy #support ran under before the demo: business hours in Berlin, DE holidays."""
    return Policy.default(BusinessCalendar.from_country(HISTORY_TZ, _HOURS, "DE"))


@dataclass(frozen=True)
class Seeded:
    """What the seed wrote."""

    tickets: int
    events: int
    breached: int
    first: datetime
    last: datetime


def seed_history(
    session: Session,
    *,
    workspace_id: int,
    channel_id: str,
    requesters: tuple[str, ...],
    agents: tuple[str, ...],
    now: datetime,
    seed: int = 15,
) -> Seeded:
    """Write HISTORY_DAYS of resolved tickets in `channel_id`, the last ending before `now`."""
    rng = random.Random(seed)
    policy = history_policy()
    calendar = policy.calendar
    zone = ZoneInfo(HISTORY_TZ)
    today = now.astimezone(zone).date()
    new: list[ticket_repo.NewTicket] = []
    later: list[tuple[list[ClockEvent], list[str | None], datetime | None, datetime | None]] = []
    taken: set[str] = set()
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        for created in _arrivals(rng, day, zone, calendar):
            priority = rng.choices(list(_PRIORITY_WEIGHTS), list(_PRIORITY_WEIGHTS.values()))[0]
            text = rng.choice(_REQUESTS[priority])
            requester, agent = rng.choice(requesters), rng.choice(agents)
            events, actors = _story(rng, policy, priority, created, requester, agent)
            if events[-1].at >= now:
                continue  # still running at `now`: the history only holds settled tickets
            clock = compute_clock(events, policy, now)
            ts = _unique_ts(created, taken)
            new.append(ticket_repo.NewTicket(
                workspace_id=workspace_id, channel_id=channel_id, message_ts=ts,
                requester_id=requester, priority=priority, created_at=created, clock=clock,
                next_due_at=None, text=text, assignee_id=agent,
            ))
            responded = next((e.at for e in events if e.kind is EventKind.RESPONDED), None)
            later.append((events, actors, responded, events[-1].at))
    created_rows = ticket_repo.create_tickets(session=session, new=new)
    history: list[event_repo.HistoryRow] = []
    milestones: list[event_repo.Milestones] = []
    breached = 0
    for row, (events, actors, responded, resolved) in zip(created_rows, later, strict=True):
        assert row is not None
        breached += bool(row.first_response_breached or row.resolution_breached)
        ticket_id = stored_id(row)
        milestones.append({"ticket_id": ticket_id, "first_response_at": responded,
                           "resolved_at": resolved})
        for event, actor in zip(events[1:], actors[1:], strict=True):
            history.append({"ticket_id": ticket_id, "kind": event.kind.value, "at": event.at,
                            "actor_id": actor, "priority": None, "note": None})
            if event.kind is EventKind.RESPONDED:  # as the bot: the responder takes it
                history.append({"ticket_id": ticket_id, "kind": "assigned", "at": event.at,
                                "actor_id": actor, "priority": None, "note": actor})
    event_repo.add_history_events(session=session, rows=history)
    event_repo.set_milestones(session=session, rows=milestones)
    return Seeded(tickets=len(new), events=len(history) + len(new), breached=breached,
                  first=new[0].created_at, last=new[-1].created_at)


def _arrivals(rng: random.Random, day: date, zone: ZoneInfo,
              calendar: BusinessCalendar) -> list[datetime]:
    """When requests came in on `day`: 5-12 in office hours of a working day, now and then
    one in the evening or at the weekend, rarely anything on a holiday."""
    noon = datetime.combine(day, time(12), zone).astimezone(UTC)
    working = day.weekday() < 5 and calendar.elapsed(noon - timedelta(hours=3), noon) > (
        timedelta(0))
    if working:
        minutes = sorted(rng.randint(8 * 60 + 30, 17 * 60 + 30) for _ in range(rng.randint(5, 12)))
        if rng.random() < 0.3:
            minutes.append(rng.randint(18 * 60, 21 * 60))
    else:
        minutes = [rng.randint(10 * 60, 20 * 60)] if rng.random() < 0.35 else []
    return [
        datetime.combine(day, time(m // 60, m % 60, rng.randint(0, 59)), zone).astimezone(UTC)
        + timedelta(microseconds=rng.randint(0, 999_999))
        for m in minutes
    ]


def _share(rng: random.Random) -> float:
    """A met target's share used: mostly early, some near misses, some breaches."""
    roll = rng.random()
    if roll < 0.72:
        return rng.uniform(0.05, 0.6)
    if roll < 0.86:
        return rng.uniform(0.6, 0.85)
    if roll < 0.96:
        return rng.uniform(0.85, 0.99)  # a near miss
    return rng.uniform(1.05, 2.2)  # a breach


def _story(rng: random.Random, policy: Policy, priority: Priority, created: datetime,
           requester: str, agent: str) -> tuple[list[ClockEvent], list[str | None]]:
    """The events of one ticket (and who did each): created, answered, maybe paused and
    resumed, resolved, maybe reopened and resolved again."""
    calendar = policy.calendar
    first = policy.target(priority, Metric.FIRST_RESPONSE)
    resolution = policy.target(priority, Metric.RESOLUTION)
    assert first is not None and resolution is not None
    events = [ClockEvent(EventKind.CREATED, created, priority)]
    actors: list[str | None] = [requester]
    responded = calendar.due(created, first * _share(rng))
    events.append(ClockEvent(EventKind.RESPONDED, responded))
    actors.append(agent)
    budget = max(resolution * _share(rng), (responded - created) + timedelta(minutes=5))
    solved_from = created
    if rng.random() < 0.07:  # waiting on the requester for a while
        paused = responded + timedelta(minutes=rng.randint(5, 90))
        resumed = paused + timedelta(hours=rng.randint(2, 40))
        events += [ClockEvent(EventKind.PAUSED, paused), ClockEvent(EventKind.RESUMED, resumed)]
        actors += [agent, requester]
        budget = budget - calendar.elapsed(created, paused)
        solved_from = resumed
    resolved = calendar.due(solved_from, max(budget, timedelta(minutes=5)))
    events.append(ClockEvent(EventKind.RESOLVED, resolved))
    actors.append(agent)
    if rng.random() < 0.04:  # "still broken": back again, then solved for good
        reopened = resolved + timedelta(hours=rng.randint(1, 48))
        again = calendar.due(reopened, timedelta(minutes=rng.randint(20, 240)))
        events += [ClockEvent(EventKind.REOPENED, reopened), ClockEvent(EventKind.RESOLVED, again)]
        actors += [requester, agent]
    return events, actors


def _unique_ts(at: datetime, taken: set[str]) -> str:
    micros = int(at.timestamp() * 1_000_000)
    while (ts := f"{micros // 1_000_000}.{micros % 1_000_000:06d}") in taken:
        micros += 1
    taken.add(ts)
    return ts
