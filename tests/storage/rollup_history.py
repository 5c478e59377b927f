"""Random ticket histories stored as the bot stores them, and the periods to ask them about:
what the rollup tests compare the rollups and the ticket scan on."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import EventKind
from sla.periods import month_period
from sla.policy import Policy
from storage import repositories as repo
from storage.repositories import rollups
from storage.repositories.rollup_reads import live_records, live_values
from tests.storage.builders import ALWAYS, OFFICE, PRIORITIES, H, ticket

NOW = datetime(2026, 3, 27, 15, 20, tzinfo=UTC)  # a Friday afternoon
# Office hours in Berlin with next-response targets; round hours so that dues land on hours.
BERLIN = Policy.default(
    BusinessCalendar("Europe/Berlin", BusinessCalendar.parse_hours("Mon-Fri 09:00-17:00"))
).with_target("P2", "next_response", 2 * H)
POLICIES = {"C1": OFFICE, "C2": ALWAYS, "C3": BERLIN}
KINDS = [EventKind.RESPONDED, EventKind.RESPONDED, EventKind.REQUESTER_REPLIED,
         EventKind.PAUSED, EventKind.RESUMED, EventKind.RESOLVED, EventKind.RESOLVED,
         EventKind.REOPENED, EventKind.PRIORITY_CHANGED]


def _instant(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """Some instant in [low, high): often exactly a UTC midnight or a whole hour."""
    at = low + (high - low) * rng.random()
    roll = rng.random()
    if roll < 0.15:
        at = at.replace(hour=0, minute=0, second=0, microsecond=0)
    elif roll < 0.4:
        at = at.replace(minute=0, second=0, microsecond=0)
    return min(max(at, low), high - timedelta(microseconds=1))


def grow_history(uow, ws, rng: random.Random, count: int, *, days: int, now: datetime) -> None:
    """``count`` tickets over the ``days`` before ``now``, each event stored as the bot
    stores it: appended, then the clock recomputed at its instant and applied."""
    for n in range(count):
        channel = rng.choice(list(POLICIES))
        policy = POLICIES[channel]
        created = _instant(rng, now - timedelta(days=days), now)
        with uow() as s:
            made = ticket(s, ws, f"{n}.{rng.randrange(10**6)}", at=created, channel=channel,
                          priority=rng.choice(PRIORITIES), policy=policy)
        at = created
        for _ in range(rng.randint(0, 7)):
            at = _instant(rng, at, at + timedelta(hours=rng.choice([1, 5, 20, 60])))
            if at >= now:
                break
            kind = rng.choice(KINDS)
            with uow() as s:
                row = repo.get_ticket(session=s, ticket_id=made.id)
                repo.append_event(session=s, ticket=row, kind=kind, at=at, priority=(
                    rng.choice(PRIORITIES) if kind is EventKind.PRIORITY_CHANGED else None))
                events = repo.load_clock_events(session=s, ticket_id=row.id)
                repo.apply_clock(session=s, ticket=row, clock=compute_clock(events, policy, at))


def snapshot(session, workspace_id: int) -> dict:
    """The rollups as what they count: rows with nothing in them left out, blobs as
    multisets of what is still in them."""
    found = {}
    for table, names in ((rollups.METRIC_ROLLUPS, ("channel_id", "day", "priority", "metric",
                                                   "target_s")),
                         (rollups.WORKSPACE_ROLLUPS, ("day", "metric"))):
        for row in session.execute(select(table).where(table.c.workspace_id == workspace_id)):
            values = row._mapping
            counts = tuple(values[name] for name in rollups.COUNTS)
            elapsed = Counter(live_values(values["elapsed"]).tolist())
            breaches = Counter(map(tuple, live_records(values["breaches"]).tolist()))
            if any(counts) or elapsed or breaches:
                found[table.name, *(values[name] for name in names)] = (
                    counts, elapsed, breaches)
    table = rollups.TICKET_ROLLUPS
    for row in session.execute(select(table).where(table.c.workspace_id == workspace_id)):
        if row.created or row.resolved:
            found["tickets", row.channel_id, row.day] = (row.created, row.resolved)
    return found


def periods(rng: random.Random, now: datetime):
    """Rolling periods, months in several time zones, past, future and tiny periods, ends at
    midnights and at the instants of the history itself."""
    for days in (1, 7, 30, 90):
        yield now - timedelta(days=days), now
    for tz in ("UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"):
        for month in (1, 2, 3, 4):
            period = month_period(2026, month, tz=tz)
            yield period.start, period.end
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    yield midnight - timedelta(days=3), midnight
    yield midnight - timedelta(days=3, hours=5), midnight + timedelta(hours=7)
    yield now - 6 * H, now - 2 * H
    yield now + H, now + timedelta(days=2)
    for _ in range(12):
        start = _instant(rng, now - timedelta(days=40), now + timedelta(days=1))
        yield start, start + timedelta(hours=rng.choice([1, 11, 24, 30, 24 * 9, 24 * 31]))


