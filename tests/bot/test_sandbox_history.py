"""The demo's seeded history: 90 days of #support that reports and /sla status can use at once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.sandbox.history import HISTORY_DAYS, HISTORY_TZ, history_policy, seed_history
from sla.clock import compute_clock
from storage import repositories as repo
from storage.models import Ticket, TicketEvent
from storage.repositories import ticket_events as event_repo

NOW = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
CHANNEL = "C0DEMOSUPPORT"


def seed(uow, now: datetime = NOW):
    with uow() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id="T0000001")
        seeded = seed_history(session, workspace_id=workspace.id, channel_id=CHANNEL,
                              requesters=("URITA", "ULENA"), agents=("UALEX", "USAM"), now=now)
    return workspace.id, seeded


def test_history_spans_ninety_days_of_settled_tickets(uow) -> None:
    _, seeded = seed(uow)
    with uow() as session:
        tickets = session.exec(select(Ticket)).all()
    assert len(tickets) == seeded.tickets > 300
    assert NOW - timedelta(days=HISTORY_DAYS + 1) < min(t.created_at for t in tickets)
    assert max(t.created_at for t in tickets) < NOW
    assert {t.status for t in tickets} == {"resolved"}
    assert all(t.next_due_at is None and t.resolved_at and t.first_response_at for t in tickets)
    assert {t.priority for t in tickets} == {"P1", "P2", "P3", "P4"}
    assert [t.key for t in sorted(tickets, key=lambda t: t.created_at)][:2] == ["SLA-1", "SLA-2"]


def test_history_follows_business_hours_and_holidays(uow) -> None:
    # A window holding a weekday German holiday: Friday 3 October 2025.
    seed(uow, now=datetime(2025, 10, 20, 12, 0, tzinfo=UTC))
    berlin = ZoneInfo(HISTORY_TZ)
    with uow() as session:
        created = [t.created_at.astimezone(berlin) for t in session.exec(select(Ticket))]
    per_weekday = Counter(at.weekday() for at in created)
    assert per_weekday[5] + per_weekday[6] < 0.1 * len(created)  # weekends are quiet
    in_hours = sum(1 for at in created if at.weekday() < 5 and 8 <= at.hour < 18)
    assert in_hours > 0.8 * len(created)
    on_the_holiday = [at for at in created if at.date() == date(2025, 10, 3)]
    other_fridays = [at for at in created if at.weekday() == 4]
    assert len(on_the_holiday) <= 1 < len(other_fridays) / 13


def test_history_has_breaches_near_misses_pauses_and_reopens(uow) -> None:
    _, seeded = seed(uow)
    with uow() as session:
        tickets = session.exec(select(Ticket)).all()
        kinds = Counter(e.kind for e in session.exec(select(TicketEvent)))
    breached = [t for t in tickets if t.first_response_breached or t.resolution_breached]
    assert len(breached) == seeded.breached and 0.05 * len(tickets) < len(breached) < (
        0.3 * len(tickets))
    near = [t for t in tickets if not t.first_response_breached
            and t.first_response_elapsed_s > 0.85 * t.first_response_target_s]
    assert near
    assert kinds["paused"] == kinds["resumed"] > 0
    assert kinds["reopened"] > 0
    assert kinds["created"] == len(tickets) and kinds["resolved"] == len(tickets) + kinds[
        "reopened"]


def test_stored_clocks_agree_with_replaying_the_stored_events(uow) -> None:
    seed(uow)
    policy = history_policy()
    with uow() as session:
        for ticket in session.exec(select(Ticket).where(Ticket.number % 37 == 0)):
            events = event_repo.load_clock_events(session=session, ticket_id=ticket.id)
            clock = compute_clock(events, policy, NOW)
            for prefix, metric in (("first_response", "first_response"),
                                   ("resolution", "resolution")):
                replayed = clock.metrics[metric]
                assert getattr(ticket, f"{prefix}_breached") == replayed.breached, ticket.key


def test_the_seeded_history_is_in_the_rollups_as_a_rebuild_counts_it(uow) -> None:
    from storage.repositories import rollups
    from tests.storage.rollup_history import snapshot

    workspace_id, _ = seed(uow)
    with uow() as session:
        kept = snapshot(session, workspace_id)
        rollups.rebuild(session.connection(), workspace_id)
        assert snapshot(session, workspace_id) == kept
        month = dict(start=NOW - timedelta(days=30), end=NOW, now=NOW, session=session,
                     workspace_id=workspace_id)
        assert repo.compliance_counts(**month) == repo.scan_compliance_counts(**month)
    assert sum(count for key, (count, *_rest) in kept.items()
               if key[0] == "tickets") > 100  # tickets created, counted per day


def test_the_seeded_history_is_in_the_responder_rollups_as_a_rebuild_counts_it(uow) -> None:
    """Every answer and resolve credited to the agent who made it, late resolutions charged
    to the agent who took the ticket by answering it."""
    from storage.repositories import responder_rollups
    from storage.repositories.responder_reads import responder_figures
    from tests.storage.test_responder_rollups import snapshot

    workspace_id, seeded = seed(uow)
    with uow() as session:
        kept = snapshot(session, workspace_id)
        responder_rollups.rebuild(session, workspace_id)
        assert snapshot(session, workspace_id) == kept
        people = responder_figures(session=session, workspace_id=workspace_id,
                                   start=NOW - timedelta(days=HISTORY_DAYS + 2), end=NOW,
                                   now=NOW)
    assert {r.user_id for r in people} == {"UALEX", "USAM"}
    assert sum(r.first_responses for r in people) == seeded.tickets
    assert sum(r.resolutions for r in people) >= seeded.tickets
    assert 0 < sum(r.breaches_assigned for r in people) < seeded.breached
