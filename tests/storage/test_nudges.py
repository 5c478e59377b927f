"""The scheduler's storage: claiming due tickets, the nudge outbox, leases, concurrency."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import select

from sla.escalation import NudgeDue, SentNudge
from sla.targets import Audience, Metric
from storage import repositories as repo
from storage.models import Nudge, NudgeState, Ticket
from tests.storage.builders import T0, ticket, workspace

MIN = timedelta(minutes=1)


def _due(threshold=0.5, *, metric=Metric.FIRST_RESPONSE, seq=0, at=T0, late=False, cycle=0):
    return NudgeDue(metric=metric, threshold=threshold, seq=seq, planned_at=at, late=late,
                    audiences=frozenset({Audience.THREAD}), cycle=cycle)


def test_only_tickets_whose_next_look_has_come_are_claimed(uow):
    with uow() as s:
        ws = workspace(s)
        now_due = ticket(s, ws, "1.1", at=T0)  # next_due_at = T0
        later = ticket(s, ws, "1.2", at=T0 + 10 * MIN)
        resolved = ticket(s, ws, "1.3", at=T0, policy=None)  # never scheduled
    with uow() as s:
        claimed = repo.claim_due_nudges(session=s, now=T0 + MIN, holder="a")
    assert [t.id for t in claimed] == [now_due.id]
    assert claimed[0].claimed_by == "a"
    assert later.id != resolved.id


def test_a_claimed_ticket_is_invisible_until_released_or_its_lease_ends(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
    with uow() as s:
        assert len(repo.claim_due_nudges(session=s, now=T0, holder="a", lease=2 * MIN)) == 1
    with uow() as s:
        assert repo.claim_due_nudges(session=s, now=T0 + MIN, holder="b") == []
    with uow() as s:
        # Holder "a" crashed: after the lease, "b" takes over; "a" can no longer release it.
        assert [t.id for t in repo.claim_due_nudges(session=s, now=T0 + 3 * MIN, holder="b")] == [
            made.id]
        assert not repo.release_ticket(session=s, ticket_id=made.id, holder="a",
                                       next_due_at=None)
        assert repo.release_ticket(session=s, ticket_id=made.id, holder="b",
                                   next_due_at=T0 + 60 * MIN)
    with uow() as s:
        assert repo.claim_due_nudges(session=s, now=T0 + 59 * MIN, holder="c") == []
        assert len(repo.claim_due_nudges(session=s, now=T0 + 60 * MIN, holder="c")) == 1


def test_a_nudge_enters_the_outbox_once_however_often_it_is_planned(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        first = repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8))
        assert first is not None and first.state == NudgeState.PENDING
        assert repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8)) is None
        # Another cycle, another re-escalation, another metric: all distinct nudges.
        assert repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8, cycle=1))
        assert repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(1.0, seq=1))
        assert repo.add_nudge(session=s, ticket_id=made.id,
                              nudge=_due(0.8, metric=Metric.RESOLUTION))
        repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.5), state=NudgeState.SKIPPED)
    with uow() as s:
        sent = repo.load_sent_nudges(session=s, ticket_id=made.id)
    assert set(sent) == {
        SentNudge(Metric.FIRST_RESPONSE, 0.8), SentNudge(Metric.FIRST_RESPONSE, 0.8, 0, 1),
        SentNudge(Metric.FIRST_RESPONSE, 1.0, 1), SentNudge(Metric.RESOLUTION, 0.8),
        SentNudge(Metric.FIRST_RESPONSE, 0.5),
    }


def test_outbox_delivery_claims_sends_retries_and_gives_up(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        nudge = repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.5, at=T0 + MIN))
        skipped = repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8),
                                 state=NudgeState.SKIPPED)
    with uow() as s:
        assert repo.claim_pending_nudges(session=s, now=T0, holder="a") == []  # not yet due
        [claimed] = repo.claim_pending_nudges(session=s, now=T0 + MIN, holder="a")
        assert (claimed.id, claimed.state, claimed.attempts) == (nudge.id, "sending", 1)
        repo.mark_nudge_failed(session=s, nudge_id=nudge.id, error="ratelimited",
                               retry_at=T0 + 5 * MIN)
    with uow() as s:
        assert repo.claim_pending_nudges(session=s, now=T0 + 4 * MIN, holder="a") == []
        [again] = repo.claim_pending_nudges(session=s, now=T0 + 5 * MIN, holder="a")
        assert again.attempts == 2 and again.last_error == "ratelimited"
        repo.mark_nudge_sent(session=s, nudge_id=nudge.id, at=T0 + 5 * MIN,
                             slack_channel="C1", slack_ts="5.5")
    with uow() as s:
        rows = {n.id: n for n in repo.list_nudges(session=s, ticket_id=made.id)}
        assert rows[nudge.id].state == NudgeState.SENT and rows[nudge.id].slack_ts == "5.5"
        assert rows[skipped.id].state == NudgeState.SKIPPED
        assert repo.claim_pending_nudges(session=s, now=T0 + 60 * MIN, holder="a") == []


def test_a_nudge_stuck_in_sending_is_claimed_again_after_its_lease(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.5))
    with uow() as s:
        assert len(repo.claim_pending_nudges(session=s, now=T0, holder="a", lease=MIN)) == 1
    with uow() as s:
        assert repo.claim_pending_nudges(session=s, now=T0 + MIN / 2, holder="b") == []
        [taken] = repo.claim_pending_nudges(session=s, now=T0 + MIN, holder="b")
        assert (taken.claimed_by, taken.attempts) == ("b", 2)


def test_a_failure_without_retry_is_final(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        nudge = repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.5))
        repo.claim_pending_nudges(session=s, now=T0, holder="a")
        repo.mark_nudge_failed(session=s, nudge_id=nudge.id, error="channel_not_found " * 100)
    with uow() as s:
        [row] = repo.list_nudges(session=s, ticket_id=made.id)
        assert row.state == NudgeState.FAILED and len(row.last_error) == 500
        assert repo.claim_pending_nudges(session=s, now=T0 + 60 * MIN, holder="a") == []


def test_resolving_cancels_pending_nudges_but_keeps_sent_ones(uow):
    with uow() as s:
        made = ticket(s, workspace(s), "1.1")
        sent = repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.5))
        repo.mark_nudge_sent(session=s, nudge_id=sent.id, at=T0)
        repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8))
        repo.add_nudge(session=s, ticket_id=made.id, nudge=_due(0.8, metric=Metric.RESOLUTION))
        assert repo.cancel_pending_nudges(session=s, ticket_id=made.id,
                                          metrics=[Metric.FIRST_RESPONSE]) == 1
        assert repo.cancel_pending_nudges(session=s, ticket_id=made.id) == 1
    with uow() as s:
        states = sorted(n.state for n in repo.list_nudges(session=s, ticket_id=made.id))
    assert states == ["cancelled", "cancelled", "sent"]


def _thousand_due_tickets(uow):
    with uow() as s:
        ws = workspace(s)
        rows = [
            dict(workspace_id=ws.id, number=n, key=f"SLA-{n}", channel_id="C1",
                 message_ts=f"{n}.0", thread_ts=f"{n}.0", requester_id="U1", priority="P3",
                 status="open", title="", text="", source="message", created_at=T0,
                 next_due_at=T0 + (n % 7) * MIN, version=1, updated_at=T0)
            for n in range(1, 1001)
        ]
        s.execute(insert(Ticket), rows)
        ids = list(s.exec(select(Ticket.id)))
        s.execute(insert(Nudge), [
            dict(ticket_id=i, metric="first_response", cycle=0, threshold=0.5, seq=0,
                 planned_at=T0, next_attempt_at=T0, state="pending", late=False, audiences=[],
                 attempts=0, created_at=T0, updated_at=T0)
            for i in ids
        ])
    return set(ids)


@pytest.mark.parametrize("what", ["tickets", "outbox"])
def test_two_workers_claiming_at_once_take_every_row_exactly_once(uow, what):
    expected = _thousand_due_tickets(uow)
    claim = repo.claim_due_nudges if what == "tickets" else repo.claim_pending_nudges
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(holder: str) -> None:
        try:
            barrier.wait()
            while True:
                # Each worker has its own unit of work, so its own connection.
                with uow() as s:
                    rows = claim(session=s, now=T0 + 10 * MIN, holder=holder, limit=25,
                                 lease=timedelta(hours=1))
                    got = [r.id if what == "tickets" else r.ticket_id for r in rows]
                if not got:
                    return
                claimed[holder].extend(got)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(h,)) for h in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    everything = claimed["a"] + claimed["b"]
    assert len(everything) == len(expected) == 1000
    assert set(everything) == expected
