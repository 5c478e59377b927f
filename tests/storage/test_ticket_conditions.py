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

from sla.clock import compute_clock
from sla.compliance import outcomes_from_clock, summarize
from sla.events import EventKind
from sla.targets import Metric
from storage import repositories as repo
from storage.repositories.ticket_counts import count_open_tickets
from tests.storage.builders import ALWAYS, OFFICE, T0, H, random_tickets, ticket, workspace

NOW = datetime(2026, 3, 27, 15, 20, tzinfo=UTC)  # a Friday afternoon
STORED = NOW - 4 * H  # when every clock was last computed and stored
ASKED = [STORED, STORED + 1.5 * H, NOW - 0.5 * H, NOW]


@pytest.fixture
def stale(uow):
    """60 tickets of the last ten days, stored with their clocks at STORED; for each, its
    key, channel and events (to compute a fresh clock at any later instant)."""
    with uow() as s:
        ws = workspace(s)
        made = random_tickets(s, ws, random.Random(20260327), 60, days=10, stored_at=STORED)
    return ws, [(row.key, row.channel_id, events) for row, events in made]


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


def test_an_earlier_next_response_breach_counts_at_now_but_not_for_a_past_instant(uow):
    """Cycle 0 of next response breached; cycle 1 runs, due ahead. Seen at now the ticket is
    breached (its stored breach says so); at an instant before now only dues count."""
    policy = ALWAYS.with_target("P3", "next_response", H)
    now = T0 + 3.5 * H
    with uow() as s:
        ws = workspace(s)
        made = ticket(s, ws, "1.1", at=T0, policy=None)
        for kind, at in ((EventKind.RESPONDED, T0 + H / 6),
                         (EventKind.REQUESTER_REPLIED, T0 + H / 3),
                         (EventKind.RESPONDED, T0 + 3 * H),
                         (EventKind.REQUESTER_REPLIED, T0 + 3 * H + H / 6)):
            repo.append_event(session=s, ticket=made, kind=kind, at=at)
        events = repo.load_clock_events(session=s, ticket_id=made.id)
        clock = compute_clock(events, policy, now)
        repo.apply_clock(session=s, ticket=made, clock=clock)
    outcomes = outcomes_from_clock(made.key, "C1", clock.priority, None, clock)
    with uow() as s:
        breached = repo.list_breached_tickets(session=s, workspace_id=ws.id, now=now)
        counts = count_open_tickets(session=s, workspace_id=ws.id, now=now)
        for end in (now, now - H / 6):  # seen at now; seen at the end of a past period
            from_sql = repo.compliance_counts(session=s, workspace_id=ws.id, start=T0, end=end,
                                              now=now)
            assert from_sql.metrics[Metric.NEXT_RESPONSE] == summarize(
                outcomes, T0, end, now).metrics[Metric.NEXT_RESPONSE], end
            assert from_sql.metrics[Metric.NEXT_RESPONSE].breached_now == (end == now), end
    assert _keys(breached) == {made.key} and counts.breached == 1
