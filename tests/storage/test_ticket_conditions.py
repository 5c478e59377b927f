"""The breach / at-risk rule in SQL (``ticket_conditions``) says what ``sla.compliance`` says.

Tickets are stored with clocks computed hours before the instant asked about, as the
scheduler leaves them between two looks: the SQL must still see what happened since
(dues passed, the at-risk fraction reached) the way ``sla.compliance`` sees a clock
computed at that instant.
"""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sla.calendar import BusinessCalendar
from sla.clock import EventKind, compute_clock
from sla.compliance import outcomes_from_clock, summarize
from sla.policy import Policy
from storage import repositories as repo
from storage.repositories.ticket_counts import count_open_tickets
from tests.storage.builders import ticket, workspace

H = timedelta(hours=1)
NOW = datetime(2026, 3, 27, 15, 20, tzinfo=UTC)  # a Friday afternoon
STORED = NOW - 4 * H  # when every clock was last computed and stored
ASKED = [STORED, STORED + 1.5 * H, NOW - 0.5 * H, NOW]
OFFICE = Policy.default(
    BusinessCalendar("Europe/Paris", BusinessCalendar.parse_hours("Mon-Fri 09:00-17:00"))
).with_target("P2", "next_response", 2 * H).with_target("P3", "next_response", 4 * H)
KINDS = [EventKind.RESPONDED, EventKind.REQUESTER_REPLIED, EventKind.PAUSED, EventKind.RESUMED,
         EventKind.RESOLVED, EventKind.REOPENED]


def _history(rng: random.Random, created: datetime) -> list[tuple[EventKind, datetime]]:
    """A few events of a plausible ticket life, all before the clocks were stored."""
    events, at = [], created
    for _ in range(rng.randint(0, 4)):
        at += timedelta(minutes=rng.randint(5, 60 * 20))
        if at >= STORED:
            break
        events.append((rng.choice(KINDS), at))
    return events


@pytest.fixture
def stale(uow):
    """60 tickets of the last ten days, stored with their clocks at STORED; for each, its
    key, channel and events (to compute a fresh clock at any later instant)."""
    rng = random.Random(20260327)
    made = []
    with uow() as s:
        ws = workspace(s)
        for n in range(60):
            created = STORED - timedelta(minutes=rng.randint(10, 60 * 24 * 10))
            channel = rng.choice(["C1", "C2"])
            row = ticket(s, ws, f"{n}.0", at=created, channel=channel,
                         priority=rng.choice(["P1", "P2", "P3", "P4"]), policy=None)
            for kind, at in _history(rng, created):
                repo.append_event(session=s, ticket=row, kind=kind, at=at)
            events = repo.load_clock_events(session=s, ticket_id=row.id)
            repo.apply_clock(session=s, ticket=row, clock=compute_clock(events, OFFICE, STORED))
            made.append((row.key, channel, events))
    return ws, made


def _fresh_outcomes(made, at, channel=None):
    return {
        key: outcomes_from_clock(key, ch, clock.priority, None, clock)
        for key, ch, events in made
        if channel is None or ch == channel
        for clock in [compute_clock(events, OFFICE, at)]
    }


def _keys(tickets):
    return {t.key for t in tickets}


def test_breached_and_at_risk_tickets_in_sql_are_those_of_the_domain_rule(uow, stale):
    ws, made = stale
    seen_breached = seen_at_risk = 0
    for at in ASKED:
        breached, at_risk = set(), set()
        for key, outcomes in _fresh_outcomes(made, at).items():
            # Asked at `at` about a period ending after it: every open metric is seen at now.
            overall = summarize(outcomes, at - timedelta(days=30), at + H, at).overall
            if overall.breached_now:
                breached.add(key)
            elif overall.at_risk:
                at_risk.add(key)
        with uow() as s:
            listed_breached = repo.list_breached_tickets(session=s, workspace_id=ws.id, now=at,
                                                         limit=1000)
            listed_at_risk = repo.list_at_risk_tickets(session=s, workspace_id=ws.id, now=at,
                                                       limit=1000)
            counts = count_open_tickets(session=s, workspace_id=ws.id, now=at)
        assert _keys(listed_breached) == breached, at
        assert _keys(listed_at_risk) == at_risk, at
        assert (counts.breached, counts.at_risk) == (len(breached), len(at_risk)), at
        seen_breached += len(breached)
        seen_at_risk += len(at_risk)
    # The tickets are varied enough for the comparison to mean something.
    assert seen_breached and seen_at_risk


def test_compliance_in_sql_over_stale_clocks_equals_the_domain_summary(uow, stale):
    ws, made = stale
    for at in ASKED:
        for channel in ("C1", None):
            outcomes = [o for found in _fresh_outcomes(made, at, channel).values() for o in found]
            from_domain = summarize(outcomes, at - timedelta(days=3), at, at)
            with uow() as s:
                from_sql = repo.compliance_counts(session=s, workspace_id=ws.id,
                                                  channel_id=channel,
                                                  start=at - timedelta(days=3), end=at, now=at)
            # A metric nothing counts is listed by the domain only: it must be empty there.
            listed = {m: s for m, s in from_domain.metrics.items() if m in from_sql.metrics}
            assert all(not (s.counted or s.open) for m, s in from_domain.metrics.items()
                       if m not in listed), (at, channel)
            assert from_sql == replace(from_domain, metrics=listed), (at, channel)
