"""Daily rollups: kept current by every change of a ticket, equal to a rebuild from the
tickets, and the compliance read from them equal to the ticket scan for any period."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.targets import Priority
from storage import repositories as repo
from storage.repositories import rollups
from storage.repositories.rollup_days import day_parts, whole_days
from storage.repositories.ticket_events import set_milestones
from tests.storage.builders import ALWAYS, PRIORITIES, H, ticket, workspace
from tests.storage.rollup_history import NOW, grow_history, periods, snapshot


@pytest.fixture
def history(uow):
    with uow() as s:
        ws = workspace(s)
    grow_history(uow, ws, random.Random(20260327), 70, days=45, now=NOW)
    return ws.id


def test_compliance_from_rollups_equals_the_ticket_scan(uow, history):
    rng = random.Random(5)
    seen: Counter[str] = Counter()
    for start, end in periods(rng, NOW):
        for now in (NOW, NOW + timedelta(days=2, hours=3)):
            for channel in (None, "C1", "C3"):
                with uow() as s:
                    kwargs = dict(session=s, workspace_id=history, start=start, end=end,
                                  now=now, channel_id=channel)
                    found = repo.compliance_counts(**kwargs)
                    assert found == repo.scan_compliance_counts(**kwargs), (
                        start, end, now, channel)
                overall = found.overall
                seen.update(checked=1, met=overall.met > 0, open=overall.open > 0,
                            at_risk=overall.at_risk > 0, late=overall.breached_now > 0,
                            trend=overall.trend_points is not None,
                            next_response=len(found.metrics) == 3)
    # The history is rich enough for the comparison to mean something.
    assert seen["checked"] > 200
    assert min(seen.values()) > 20, seen


def test_groups_add_up_to_the_scan_of_their_channel(uow, history):
    with uow() as s:
        figures = repo.period_figures(session=s, workspace_id=history, start=NOW - timedelta(
            days=20), end=NOW, now=NOW)
        for channel, summary in figures.by("channel").items():
            assert summary == repo.scan_compliance_counts(
                session=s, workspace_id=history, channel_id=channel,
                start=NOW - timedelta(days=20), end=NOW, now=NOW)
            assert figures.met_breached(channel=channel) == (summary.overall.met,
                                                             summary.overall.breached)
    priorities = figures.by("priority")
    assert set(priorities) <= set(PRIORITIES) and len(priorities) > 1
    assert sum(p.overall.met for p in priorities.values()) == figures.summary().overall.met
    # Without the previous period, the same figures, no trend.
    with uow() as s:
        alone = repo.period_figures(session=s, workspace_id=history, start=NOW - timedelta(
            days=20), end=NOW, now=NOW, previous=False)

    def no_trend(summary):
        return [replace(m, previous_met_percent=None, trend_points=None)
                for m in (*summary.metrics.values(), summary.overall)]

    for priority, summary in alone.by("priority").items():
        assert summary.overall.trend_points is None
        assert no_trend(summary) == no_trend(priorities[priority])


def test_rollups_kept_current_equal_a_rebuild(uow, history):
    with uow() as s:
        kept = snapshot(s, history)
    with uow() as s:
        assert rollups.rebuild(s.connection(), history) == 70
    with uow() as s:
        rebuilt = snapshot(s, history)
    assert kept == rebuilt
    assert {key[0] for key in kept} == {"tickets", "metric_rollups", "workspace_rollups"}
    assert len(kept) > 50


def test_taking_a_stop_back_takes_its_values_back(uow):
    """Resolve, reopen, resolve again later: the first resolution leaves nothing behind."""
    with uow() as s:
        ws = workspace(s)
        made = ticket(s, ws, "1.1", at=NOW - timedelta(days=3), policy=ALWAYS)
    for kind, at in ((EventKind.RESOLVED, NOW - timedelta(days=2)),
                     (EventKind.REOPENED, NOW - timedelta(days=1, hours=1)),
                     (EventKind.RESOLVED, NOW - H)):
        with uow() as s:
            row = repo.get_ticket(session=s, ticket_id=made.id)
            repo.append_event(session=s, ticket=row, kind=kind, at=at)
            events = repo.load_clock_events(session=s, ticket_id=row.id)
            repo.apply_clock(session=s, ticket=row, clock=compute_clock(events, ALWAYS, at))
    with uow() as s:
        kept = snapshot(s, ws.id)
        rollups.rebuild(s.connection(), ws.id)
        assert snapshot(s, ws.id) == kept
    days = {key[2] for key in kept if key[0] == "metric_rollups" and key[4] == "resolution"
            and kept[key][0][0]}
    assert days == {(NOW - H).date()}


def test_whole_days_and_the_parts_around_them():
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert whole_days(monday, monday + timedelta(days=2)) == (monday.date(), (
        monday + timedelta(days=2)).date())
    assert day_parts(monday, monday + timedelta(days=2)) == []
    start, end = monday + 5 * H, monday + timedelta(days=2, hours=3)
    assert day_parts(start, end) == [(start, monday + timedelta(days=1)),
                                     (monday + timedelta(days=2), end)]
    assert day_parts(start, start + H) == [(start, start + H)]
    berlin = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    assert whole_days(berlin, berlin + timedelta(days=31))[0] == datetime(2026, 3, 1).date()


def test_tickets_imported_with_their_past_are_counted_as_they_are_written(uow):
    """An intake batch or an import: tickets born with stopped metrics, resolved instants
    set afterwards."""
    created = NOW - timedelta(days=2)
    events = [ClockEvent(EventKind.CREATED, created, Priority.P2),
              ClockEvent(EventKind.RESPONDED, created + 3 * H),
              ClockEvent(EventKind.RESOLVED, created + timedelta(days=1, hours=5))]
    clock = compute_clock(events, ALWAYS, NOW)
    with uow() as s:
        ws = workspace(s)
        made = repo.create_tickets(session=s, new=[repo.NewTicket(
            workspace_id=ws.id, channel_id="C1", message_ts=f"{n}.5", requester_id="U1",
            priority=Priority.P2, created_at=created, clock=clock, next_due_at=None)
            for n in range(3)])
        set_milestones(session=s, rows=[{"ticket_id": row.id, "first_response_at": None,
                                         "resolved_at": events[-1].at} for row in made])
    with uow() as s:
        kept = snapshot(s, ws.id)
        rollups.rebuild(s.connection(), ws.id)
        assert snapshot(s, ws.id) == kept
    assert kept["tickets", "C1", (created + timedelta(days=1, hours=5)).date()] == (0, 3)
    with uow() as s:
        summary = repo.compliance_counts(session=s, workspace_id=ws.id, start=created,
                                         end=NOW, now=NOW)
    # P2 on 24x7: answered after 3h (target 1h), resolved after 29h (target 8h).
    assert (summary.overall.met, summary.overall.breached) == (0, 6)


def test_two_replicas_resolving_tickets_of_one_row_lose_no_update(uow, engine, db_url):
    """Replica A has added to today's row and not committed; replica B resolves another
    ticket of the same row: B waits (for A's row lock on PostgreSQL, for the one writer's
    lock on SQLite), then adds on top of A."""
    with uow() as s:
        ws = workspace(s)
        made = [ticket(s, ws, f"{n}.7", at=NOW - 5 * H, policy=ALWAYS) for n in range(2)]
    added, release = threading.Event(), threading.Event()

    def resolve(row, hold: bool):
        with uow() as s:
            found = repo.get_ticket(session=s, ticket_id=row.id)
            repo.append_event(session=s, ticket=found, kind=EventKind.RESOLVED, at=NOW - H)
            events = repo.load_clock_events(session=s, ticket_id=found.id)
            repo.apply_clock(session=s, ticket=found, clock=compute_clock(events, ALWAYS, NOW))
            if hold:
                added.set()
                assert release.wait(30)

    first = threading.Thread(target=resolve, args=(made[0], True))
    first.start()
    assert added.wait(30)
    second = threading.Thread(target=resolve, args=(made[1], False))
    second.start()
    if db_url.startswith("postgresql"):
        assert _waits_for_a_lock(engine)
    release.set()
    first.join(30)
    second.join(30)
    with uow() as s:
        kept = snapshot(s, ws.id)
        rollups.rebuild(s.connection(), ws.id)
        assert snapshot(s, ws.id) == kept
    today = [counts for key, (counts, *_blobs) in kept.items()
             if key[0] == "workspace_rollups" and key[2] == "resolution"]
    assert [counts[0] for counts in today] == [2]  # both resolutions stopped, counted once


def _waits_for_a_lock(engine) -> bool:
    """Whether a session of the database is waiting on a lock (asked, not slept on)."""
    with engine.connect() as connection:
        for _ in range(3000):
            if connection.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
            ).scalar():
                return True
            connection.rollback()
    return False
