"""Tickets: numbering, one ticket per message, lookups, history, stored clock, lists."""

import threading
from datetime import timedelta

import pytest

from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.targets import Metric, Priority
from storage import repositories as repo
from storage.errors import DuplicateTicket, StorageError
from storage.models import Ticket, TicketStatus
from tests.storage.builders import ALWAYS, T0, ticket, workspace

H = timedelta(hours=1)


def test_tickets_are_numbered_per_workspace(uow):
    with uow() as s:
        acme, other = workspace(s, "T1"), workspace(s, "T2")
        keys = [ticket(s, acme, "1.1").key, ticket(s, acme, "1.2").key, ticket(s, other, "1.1").key]
    assert keys == ["SLA-1", "SLA-2", "SLA-1"]


def test_a_message_never_becomes_two_tickets_and_the_duplicate_writes_nothing(uow):
    with uow() as s:
        ws = workspace(s)
        first = ticket(s, ws, "1.1")
    with pytest.raises(DuplicateTicket, match="already ticket SLA-1") as caught, uow() as s:
        ticket(s, ws, "1.1")
    assert (caught.value.ticket_id, caught.value.key) == (first.id, "SLA-1")
    with uow() as s:
        # The failed attempt used no number and left no event behind.
        assert ticket(s, ws, "1.2").key == "SLA-2"
        assert len(repo.list_events(session=s, ticket_id=first.id)) == 1


def test_two_requests_racing_on_one_message_make_one_ticket(uow):
    with uow() as s:
        ws = workspace(s)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            with uow() as s:
                outcomes.append(ticket(s, ws, "9.9").key)
        except DuplicateTicket as exc:
            outcomes.append(f"duplicate of {exc.key}")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["SLA-1", "duplicate of SLA-1"]


def _new(ws, ts: str, *, channel: str = "C1", at=T0, text: str = "VPN down"):
    clock = compute_clock([ClockEvent(EventKind.CREATED, at, Priority.P3)], ALWAYS, at)
    return repo.NewTicket(workspace_id=ws.id, channel_id=channel, message_ts=ts,
                          requester_id="U_REQ", priority=Priority.P3, created_at=at,
                          clock=clock, next_due_at=at, text=text)


def test_many_tickets_are_created_at_once_numbered_in_order_and_skipping_known_messages(uow):
    with uow() as s:
        ws, other = workspace(s), workspace(s, "T2")
        ticket(s, ws, "1.1")
    with uow() as s:
        made = repo.create_tickets(session=s, new=[
            _new(ws, "2.1"), _new(ws, "1.1"), _new(other, "2.1"), _new(ws, "2.2", channel="C2"),
            _new(ws, "2.1"),  # the same message twice in one batch
        ])
        keys = [t.key if t else None for t in made]
        ids = [t.id for t in made if t]
    assert keys == ["SLA-2", None, "SLA-1", "SLA-3", None]
    with uow() as s:
        # The rows are complete: the same columns create_ticket writes, and the CREATED event.
        stored = repo.get_ticket_by_message(session=s, workspace_id=ws.id, channel_id="C1",
                                            message_ts="2.1")
        single = ticket(s, ws, "3.3")
        assert (stored.key, stored.first_response_due_at, stored.next_due_at) == (
            "SLA-2", single.first_response_due_at, T0)
        assert single.key == "SLA-4"  # numbering goes on after the batch
        for ticket_id in ids:
            [event] = repo.list_events(session=s, ticket_id=ticket_id)
            assert event.kind == EventKind.CREATED.value


def test_a_ticket_is_found_by_key_as_people_type_it_by_message_and_by_thread(uow):
    with uow() as s:
        ws = workspace(s)
        made = ticket(s, ws, "1.1", text="\n  VPN is down\nsince 9am")
    with uow() as s:
        for typed in ("SLA-1", "sla-1", "#1", "1"):
            assert repo.get_ticket_by_key(session=s, workspace_id=ws.id, key=typed).id == made.id
        assert repo.get_ticket_by_key(session=s, workspace_id=ws.id, key="SLA-2") is None
        assert repo.get_ticket_by_key(session=s, workspace_id=ws.id, key="nonsense") is None
        found = repo.get_ticket_by_message(session=s, workspace_id=ws.id, channel_id="C1",
                                           message_ts="1.1")
        assert found.title == "VPN is down"
        assert repo.get_ticket_by_thread(session=s, workspace_id=ws.id, channel_id="C1",
                                         thread_ts="1.1").id == made.id
        assert repo.get_ticket_by_thread(session=s, workspace_id=ws.id, channel_id="C2",
                                         thread_ts="1.1") is None


def test_a_new_ticket_is_born_with_its_targets_due_instants_and_a_scheduler_look(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1", priority="P2")  # 1h / 8h on a 24x7 calendar
    assert made.first_response_target_s == 3600
    assert made.first_response_due_at == T0 + H
    assert made.first_response_at_risk_at == T0 + 0.8 * H
    assert made.resolution_due_at == T0 + 8 * H
    assert made.next_response_target_s is None
    assert made.next_due_at == T0
    assert made.status == TicketStatus.OPEN


def test_history_moves_the_plain_facts_and_maps_back_to_clock_events(uow):
    with uow() as s:
        ws = workspace(s)
        made = ticket(s, ws, "1.1")
        repo.append_event(session=s, ticket=made, kind=EventKind.RESPONDED, at=T0 + H,
                          actor_id="U_AGENT")
        repo.append_event(session=s, ticket=made, kind="priority_changed", at=T0 + 2 * H,
                          priority="p1")
        repo.append_event(session=s, ticket=made, kind=EventKind.PAUSED, at=T0 + 3 * H)
        assert made.status == TicketStatus.PAUSED
        repo.append_event(session=s, ticket=made, kind=EventKind.RESUMED, at=T0 + 4 * H)
        repo.append_event(session=s, ticket=made, kind=EventKind.RESOLVED, at=T0 + 5 * H)
    with uow() as s:
        stored = repo.get_ticket(session=s, ticket_id=made.id)
        assert stored.first_response_at == T0 + H
        assert stored.resolved_at == T0 + 5 * H
        assert (stored.priority, stored.status) == ("P1", TicketStatus.RESOLVED)
        events = repo.load_clock_events(session=s, ticket_id=made.id)
    assert [e.kind for e in events] == [
        EventKind.CREATED, EventKind.RESPONDED, EventKind.PRIORITY_CHANGED, EventKind.PAUSED,
        EventKind.RESUMED, EventKind.RESOLVED,
    ]
    assert events[2].priority == "P1"
    clock = compute_clock(events, ALWAYS, T0 + 6 * H)
    assert clock.resolved and clock.metrics[Metric.RESOLUTION].elapsed == 4 * H


def test_unknown_event_kinds_and_priority_changes_without_priority_are_refused(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        with pytest.raises(StorageError, match="unknown ticket event kind 'exploded'"):
            repo.append_event(session=s, ticket=made, kind="exploded", at=T0)
        with pytest.raises(StorageError, match="needs the new priority"):
            repo.append_event(session=s, ticket=made, kind="priority_changed", at=T0)
        unsaved = Ticket(workspace_id=made.workspace_id, number=9, key="SLA-9", channel_id="C1",
                         message_ts="9.9", thread_ts="9.9", requester_id="U1", priority="P3",
                         created_at=T0)
        with pytest.raises(StorageError, match="'SLA-9' is not stored yet"):
            repo.append_event(session=s, ticket=unsaved, kind="note", at=T0)


def test_apply_clock_stores_results_once_metrics_stop(uow):
    with uow() as s:
        ws = workspace(s)
        made = ticket(s, ws, "1.1", priority="P2")  # first response target 1h
        repo.append_event(session=s, ticket=made, kind=EventKind.RESPONDED, at=T0 + 2 * H)
        events = repo.load_clock_events(session=s, ticket_id=made.id)
        repo.apply_clock(session=s, ticket=made, clock=compute_clock(events, ALWAYS, T0 + 3 * H))
    with uow() as s:
        stored = repo.get_ticket(session=s, ticket_id=made.id)
    assert stored.first_response_stopped_at == T0 + 2 * H
    assert stored.first_response_elapsed_s == 7200
    assert stored.first_response_breached is True
    assert stored.first_response_at_risk_at is None
    assert stored.resolution_stopped_at is None
    assert stored.resolution_elapsed_s == 3 * 3600
    assert stored.next_due_at == T0 + 3 * H  # resolution still runs: plan it now
    assert stored.version > made.version - 1


def test_a_paused_ticket_has_no_due_instants_and_no_scheduler_look(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        repo.append_event(session=s, ticket=made, kind=EventKind.PAUSED, at=T0 + H)
        events = repo.load_clock_events(session=s, ticket_id=made.id)
        repo.apply_clock(session=s, ticket=made, clock=compute_clock(events, ALWAYS, T0 + 2 * H))
    assert made.status == TicketStatus.PAUSED
    assert made.first_response_due_at is None and made.resolution_due_at is None
    assert made.next_due_at is None


def _age(session, made, now):
    events = repo.load_clock_events(session=session, ticket_id=made.id)
    repo.apply_clock(session=session, ticket=made, clock=compute_clock(events, ALWAYS, now))


def test_open_at_risk_and_breached_lists(uow):
    now = T0 + 10 * H
    with uow() as s:
        ws = workspace(s)
        # P3 on 24x7: first response 4h. Created 1h ago: fine; 3.5h ago: at risk; 5h: breached.
        fine = ticket(s, ws, "1.1", at=now - H)
        risky = ticket(s, ws, "1.2", at=now - 3.5 * H)
        late = ticket(s, ws, "1.3", at=now - 5 * H)
        done = ticket(s, ws, "1.4", at=now - 9 * H)
        elsewhere = ticket(s, ws, "1.5", at=now - 5 * H, channel="C2")
        repo.append_event(session=s, ticket=done, kind=EventKind.RESOLVED, at=now - 8 * H)
        for made in (fine, risky, late, done, elsewhere):
            _age(s, made, now)
        repo.set_assignee(session=s, ticket=late, assignee_id="U_AGENT")
    with uow() as s:
        def keys(rows):
            return [t.key for t in rows]

        assert keys(repo.list_open_tickets(session=s, workspace_id=ws.id, channel_id="C1")) == [
            late.key, risky.key, fine.key]
        assert keys(repo.list_breached_tickets(session=s, workspace_id=ws.id, now=now,
                                               channel_id="C1")) == [late.key]
        assert keys(repo.list_at_risk_tickets(session=s, workspace_id=ws.id, now=now,
                                              channel_id="C1")) == [risky.key]
        assert keys(repo.list_open_tickets(session=s, workspace_id=ws.id,
                                           assignee_id="U_AGENT")) == [late.key]
        assert set(keys(repo.list_breached_tickets(session=s, workspace_id=ws.id, now=now))) == {
            late.key, elsewhere.key}


def test_a_running_ticket_becomes_breached_with_time_without_being_rewritten(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")  # stored at creation only: due T0 + 4h
    with uow() as s:
        ws_id = made.workspace_id
        assert repo.list_breached_tickets(session=s, workspace_id=ws_id, now=T0 + 3 * H) == []
        at_risk = repo.list_at_risk_tickets(session=s, workspace_id=ws_id, now=T0 + 3.5 * H,
                                            horizon=timedelta(0))
        assert [t.id for t in at_risk] == [made.id]
        assert [t.id for t in repo.list_breached_tickets(
            session=s, workspace_id=ws_id, now=T0 + 5 * H)] == [made.id]


def test_a_persons_open_tickets_are_found_behind_many_older_ones_of_others(uow):
    # /sla list mine and the App Home: filtered before the limit, not after it.
    with uow() as s:
        ws = workspace(s)
        for n in range(30):
            ticket(s, ws, f"{n}.0", at=T0 + timedelta(minutes=n))
        mine = repo.create_ticket(
            session=s, workspace_id=ws.id, channel_id="C1", message_ts="99.0",
            requester_id="U_ME", priority="P3", created_at=T0 + timedelta(hours=2),
            text="mine", policy=ALWAYS)
        theirs_assigned_to_me = ticket(s, ws, "98.0", at=T0 + timedelta(hours=3))
        repo.set_assignee(session=s, ticket=theirs_assigned_to_me, assignee_id="U_ME")
    with uow() as s:
        oldest = repo.list_open_tickets(session=s, workspace_id=ws.id, limit=10)
        assert "U_ME" not in {t.requester_id for t in oldest}
        found = repo.list_open_tickets(session=s, workspace_id=ws.id, involving="U_ME",
                                       limit=10)
        assert [t.message_ts for t in found] == [mine.message_ts, "98.0"]
