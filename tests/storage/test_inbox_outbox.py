"""The inbox and the outbox: dedupe by key, leases, backoff, parking, collapsed card redraws."""

from datetime import timedelta

from sqlmodel import select

from storage.models import InboxItem, InboxState, OutboxMessage, OutboxState
from storage.repositories import inbox as inbox_repo
from storage.repositories import outbox as outbox_repo
from tests.storage.builders import T0, ticket, workspace

LEASE = timedelta(minutes=2)


def _add(session, key: str, at=T0) -> bool:
    return inbox_repo.add_to_inbox(session=session, dedupe_key=key, kind="event",
                                   payload={"event_id": key}, at=at)


def test_a_redelivered_event_is_stored_once(uow):
    with uow() as s:
        assert _add(s, "event:Ev1")
    with uow() as s:
        assert not _add(s, "event:Ev1", at=T0 + timedelta(minutes=1))
        assert _add(s, "event:Ev2")
        assert inbox_repo.inbox_stats(session=s).pending == 2


def test_an_event_stored_in_a_unit_that_failed_is_not_stored(uow):
    try:
        with uow() as s:
            _add(s, "event:Ev1")
            raise RuntimeError("commit never happens: Slack gets a 503 and redelivers")
    except RuntimeError:
        pass
    with uow() as s:
        assert _add(s, "event:Ev1")


def test_claimed_rows_are_invisible_to_other_workers_until_the_lease_ends(uow):
    with uow() as s:
        for n in range(3):
            _add(s, f"event:Ev{n}")
    with uow() as s:
        first = inbox_repo.claim_inbox(session=s, now=T0, holder="a", limit=2, lease=LEASE)
        assert [r.dedupe_key for r in first] == ["event:Ev0", "event:Ev1"]
        assert all(r.attempts == 1 for r in first)
    with uow() as s:
        second = inbox_repo.claim_inbox(session=s, now=T0, holder="b", limit=5, lease=LEASE)
        assert [r.dedupe_key for r in second] == ["event:Ev2"]
    with uow() as s:  # "a" crashed: its rows come back once the lease ran out
        again = inbox_repo.claim_inbox(session=s, now=T0 + LEASE, holder="b", limit=5,
                                       lease=LEASE)
        assert [r.dedupe_key for r in again] == ["event:Ev0", "event:Ev1", "event:Ev2"]
        assert [r.attempts for r in again] == [2, 2, 2]


def test_done_needs_the_lease_and_failures_back_off_then_park(uow):
    with uow() as s:
        _add(s, "event:Ev1")
        _add(s, "event:Ev2")
    with uow() as s:
        one, two = inbox_repo.claim_inbox(session=s, now=T0, holder="a", limit=5, lease=LEASE)
        assert not inbox_repo.mark_done(session=s, item_id=one.id, holder="b", at=T0)
        assert inbox_repo.mark_done(session=s, item_id=one.id, holder="a", at=T0)
        inbox_repo.mark_failed(session=s, item_id=two.id, error="boom",
                               retry_at=T0 + timedelta(seconds=5))
    with uow() as s:
        assert inbox_repo.claim_inbox(session=s, now=T0, holder="a", limit=5, lease=LEASE) == []
        assert inbox_repo.next_attempt_at(session=s) == T0 + timedelta(seconds=5)
        [retried] = inbox_repo.claim_inbox(session=s, now=T0 + timedelta(seconds=5),
                                           holder="a", limit=5, lease=LEASE)
        inbox_repo.mark_failed(session=s, item_id=retried.id, error="boom " * 200, retry_at=None)
    with uow() as s:
        stats = inbox_repo.inbox_stats(session=s)
        assert (stats.pending, stats.parked) == (0, 1)
        parked = s.get(InboxItem, two.id)
        assert parked.state == InboxState.PARKED and len(parked.last_error) == 500
        assert inbox_repo.forget_done_before(session=s, before=T0 + timedelta(days=1)) == 1


def test_a_write_is_queued_once_per_key(uow):
    with uow() as s:
        assert outbox_repo.queue_write(session=s, key="note:1:v2", kind=outbox_repo.POST,
                                       channel_id="C1", text="hi", at=T0)
        assert not outbox_repo.queue_write(session=s, key="note:1:v2", kind=outbox_repo.POST,
                                           channel_id="C1", text="hi again", at=T0)
        assert outbox_repo.outbox_stats(session=s).pending == 1


def test_card_redraws_collapse_while_one_waits(uow):
    with uow() as s:
        ws = workspace(s)
        t = ticket(s, ws, "1.0")
        outbox_repo.queue_write(session=s, key=f"card:{t.id}", kind=outbox_repo.CARD,
                                ticket_id=t.id, at=T0)
        # The card itself waits: it will be drawn as the ticket is then.
        assert not outbox_repo.queue_card_update(session=s, ticket_id=t.id, version=2, at=T0)
    with uow() as s:
        [card] = outbox_repo.claim_writes(session=s, now=T0, holder="a", limit=5, lease=LEASE)
        assert outbox_repo.card_pending(session=s, ticket_id=t.id)
        # The card is in flight: a change now needs a redraw of its own, but only one.
        assert outbox_repo.queue_card_update(session=s, ticket_id=t.id, version=2, at=T0)
        assert not outbox_repo.queue_card_update(session=s, ticket_id=t.id, version=3, at=T0)
        assert outbox_repo.mark_sent(session=s, write_id=card.id, holder="a", at=T0,
                                     slack_ts="9.1")
        assert not outbox_repo.card_pending(session=s, ticket_id=t.id)
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.kind, r.state) for r in rows] == [
            ("card", OutboxState.SENT), ("card_update", OutboxState.PENDING)]


def test_retry_failure_and_the_next_attempt(uow):
    with uow() as s:
        outbox_repo.queue_write(session=s, key="dm:1", kind=outbox_repo.DM, user_id="U1",
                                text="psst", at=T0)
    with uow() as s:
        [row] = outbox_repo.claim_writes(session=s, now=T0, holder="a", limit=5, lease=LEASE)
        assert outbox_repo.mark_retry(session=s, write_id=row.id, holder="a", error="503",
                                      retry_at=T0 + timedelta(seconds=4))
        assert outbox_repo.next_write_at(session=s) == T0 + timedelta(seconds=4)
    with uow() as s:
        [row] = outbox_repo.claim_writes(session=s, now=T0 + timedelta(seconds=4), holder="a",
                                         limit=5, lease=LEASE)
        assert row.attempts == 2
        assert outbox_repo.mark_failed(session=s, write_id=row.id, holder="a",
                                       error="channel_not_found")
        stats = outbox_repo.outbox_stats(session=s)
        assert (stats.pending, stats.failed) == (0, 1)
