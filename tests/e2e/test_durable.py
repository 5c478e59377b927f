"""The durable loop under faults: nothing Slack sent is lost, nothing the bot writes doubles.

Each test is the real bot over signed HTTP against the fake Slack, on SQLite and PostgreSQL.
`bot.settle()` runs the inbox worker and the outbox sender as the scheduler would; rows that
wait out a backoff go again once the test moves the clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.queues import queue_health
from bot.views.digest import DIGEST_VIEWS
from commands.digest_send import send_digest
from commands.ids import Action
from storage.db import unit_of_work
from storage.models import InboxItem, InboxState, OutboxMessage, OutboxState
from tests.e2e.conftest import ADMIN, AGENT, CHANNEL, HOLDER
from tests.e2e.test_intake import tickets, track

LATER = timedelta(minutes=1)


def card_messages(bot) -> Counter:
    """How many bot messages each thread holds (a card or a note is one each)."""
    return Counter(m.get("thread_ts") for (c, _), m in bot.fake.messages.items()
                   if c == CHANNEL and m.get("bot_id"))


def outbox(bot) -> list[OutboxMessage]:
    with unit_of_work(bot.deps.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def health(bot) -> dict:
    return queue_health(bot.deps, HOLDER)()


def test_a_spell_of_500s_delays_the_cards_and_each_ticket_still_gets_one(bot):
    track(bot)
    bot.fake.fail("chat.postMessage", status=500, times=10_000)
    threads = [bot.slack.message(f"request {n}: the printer is on fire")[0] for n in range(10)]
    bot.settle()
    assert len(tickets(bot)) == 10
    assert card_messages(bot) == Counter()
    assert all(t.card_ts is None for t in tickets(bot))
    assert {w.state for w in outbox(bot)} == {OutboxState.PENDING}

    for _ in range(3):  # the spell goes on: every retry fails too, and waits longer
        bot.clock.advance(LATER)
        bot.settle()
    assert card_messages(bot) == Counter()
    bot.clock.advance(timedelta(minutes=6))  # a stuck outbox is an alarm
    assert health(bot)["ok"] is False and health(bot)["outbox"]["stale"] is True

    bot.fake.heal("chat.postMessage")  # Slack recovers; the bot never restarted
    bot.clock.advance(timedelta(minutes=5))
    bot.settle()
    assert card_messages(bot) == Counter({ts: 1 for ts in threads})
    assert all(t.card_ts for t in tickets(bot))
    assert {w.state for w in outbox(bot)} == {OutboxState.SENT}
    assert health(bot)["ok"] is True


def test_a_post_slack_carried_out_but_never_answered_is_not_posted_again(bot):
    track(bot)
    bot.fake.fail("chat.postMessage", drop=True, times=1)
    ts, _ = bot.slack.message("checkout is down")
    bot.settle()
    assert card_messages(bot) == Counter({ts: 1})  # posted, but the bot cannot know
    [ticket] = tickets(bot)
    assert ticket.card_ts is None

    bot.clock.advance(LATER)
    bot.settle()
    [ticket] = tickets(bot)
    assert card_messages(bot) == Counter({ts: 1})
    assert ticket.card_ts == next(m["ts"] for m in bot.fake.messages.values()
                                  if m.get("thread_ts") == ts and m.get("bot_id"))
    # The retry looked for the first attempt's marker instead of posting blindly.
    assert len(bot.fake.calls("chat.postMessage")) == 1
    assert bot.fake.calls("conversations.replies")


def test_a_thread_note_whose_answer_was_lost_is_posted_once(bot):
    track(bot)
    ts, _ = bot.slack.message("the VPN is slow")
    bot.settle()
    [ticket] = tickets(bot)
    bot.fake.fail("chat.postMessage", drop=True, times=1)
    assert bot.slack.action(Action.PRIORITY_P1.value, ticket.key, user=AGENT,
                            message_ts=ticket.card_ts).status == 200
    bot.settle()
    bot.clock.advance(LATER)
    bot.settle()
    notes = [m for m in bot.fake.messages.values()
             if m.get("thread_ts") == ts and "Priority set to P1" in m.get("text", "")]
    assert len(notes) == 1
    assert card_messages(bot) == Counter({ts: 2})  # the card and the note


class RefusedWrites:
    """A database that stops taking writes (what a full disk looks like to the bot)."""

    def __init__(self, engine) -> None:
        self.on = False
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)


@pytest.fixture
def refused(engine):
    writes = RefusedWrites(engine)
    yield writes
    writes.close()


def test_events_the_database_refused_get_a_5xx_and_count_once_when_redelivered(bot, refused):
    track(bot)
    refused.on = True
    sent = [bot.slack.message(f"urgent {n}", event_id=f"EvFULL{n}") for n in range(5)]
    assert [response.status for _ts, response in sent] == [503] * 5
    answer = bot.get("/healthz")
    assert answer.status == 503
    assert answer.json()["database_writes"].startswith("refused")
    refused.on = False
    for n, (ts, _) in enumerate(sent):  # Slack redelivers: same event id, a retry number
        for retry in (1, 2):
            again = bot.slack.message(f"urgent {n}", ts=ts, event_id=f"EvFULL{n}",
                                      retry_num=retry)[1]
            assert again.status == 200
    bot.settle()
    assert sorted(t.message_ts for t in tickets(bot)) == sorted(ts for ts, _ in sent)
    assert card_messages(bot) == Counter({ts: 1 for ts, _ in sent})
    assert bot.get("/healthz").status == 200


def test_a_poisoned_event_is_parked_and_never_blocks_the_rest(bot, caplog):
    track(bot)
    bot.slack.message("fine")
    bot.settle()
    # A stored event its handler cannot apply (a reply to a thread of a bot that is gone...)
    with unit_of_work(bot.deps.engine) as session:
        session.add(InboxItem(dedupe_key="event:EvPOISON", kind="event", payload={
            "type": "event_callback", "team_id": "T0000001", "event_id": "EvPOISON",
            "event": {"type": "message", "channel": CHANNEL, "user": "U1", "ts": "1.0",
                      "text": "x", "thread_ts": {"not": "a ts"}}},
            received_at=bot.clock.now(), next_attempt_at=bot.clock.now()))
    bot.slack.message("also fine")
    for _ in range(10):
        bot.drain()
        bot.clock.advance(timedelta(minutes=11))
    assert len(tickets(bot)) == 2
    with unit_of_work(bot.deps.engine) as session:
        poisoned = session.exec(select(InboxItem).where(
            InboxItem.dedupe_key == "event:EvPOISON")).one()
    assert poisoned.state == InboxState.PARKED and poisoned.last_error
    assert health(bot)["inbox"]["parked"] == 1
    bot.error_log.records.clear()  # parking is logged as an error on purpose


def test_a_lone_surrogate_is_stored_replaced_and_a_ts_that_is_no_timestamp_is_no_ticket(bot):
    track(bot)
    payload = json.dumps({
        "type": "event_callback", "team_id": "T0000001", "event_id": "EvSURR",
        "event": {"type": "message", "channel": CHANNEL, "user": "UREQUESTER",
                  "text": "printer \ud800 broken", "ts": bot.slack.next_ts()}})
    assert "\\ud800" in payload  # JSON carries half a surrogate pair as an escape
    assert bot.slack.post(payload.encode(), "application/json").status == 200
    for ts in ("yesterday", "nan", "1e400"):
        assert bot.slack.message("not a real message", ts=ts)[1].status in (200, 400)
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.text == "printer \ufffd broken"


def test_a_digest_and_its_chart_whose_answers_were_lost_are_posted_once(bot):
    from tests.e2e.test_digest import MANAGERS, SLOT, _seed_week, _subscribe

    _seed_week(bot)
    subscription = _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)
    bot.fake.fail("chat.postMessage", drop=True, times=1)
    bot.fake.fail("files.completeUploadExternal", drop=True, times=1)
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    for _ in range(3):
        bot.clock.advance(LATER)
        bot.settle()
    digests = [m for (c, _), m in bot.fake.messages.items()
               if c == MANAGERS and "Weekly SLA digest" in m.get("text", "")]
    assert len(digests) == 1
    assert len(bot.fake.calls("chat.postMessage")) == 1  # found by its marker, not re-sent
    assert [f["channels"] for f in bot.fake.shared_files] == [[MANAGERS]]
    assert {w.state for w in outbox(bot)} == {OutboxState.SENT}


def test_a_direct_message_whose_answer_was_lost_is_sent_once(bot):
    from tests.e2e.test_digest import SLOT, _seed_week, _subscribe

    _seed_week(bot)
    subscription = _subscribe(bot, "digest subscribe me", user=AGENT)
    bot.fake.fail("chat.postMessage", drop=True, times=1)
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    bot.clock.advance(LATER)
    bot.settle()
    dms = [m for (c, _), m in bot.fake.messages.items()
           if c == "DAGENT" and "Weekly SLA digest" in m.get("text", "")]
    assert len(dms) == 1
    assert bot.fake.calls("conversations.history")  # looked for before sending again


def test_applied_events_and_delivered_writes_are_forgotten_failed_ones_kept(bot):
    from bot.scheduler import prune_queues

    track(bot)
    bot.slack.message("old request")
    bot.settle()
    bot.fake.fail("chat.postMessage", status=200, error="channel_not_found", times=1)
    bot.slack.message("its card will fail for good")
    bot.drain()
    bot.error_log.records.clear()  # the failed card is logged as an error on purpose
    bot.clock.advance(timedelta(days=8))
    assert prune_queues(bot.deps) == (2, 1)
    [kept] = outbox(bot)
    assert (kept.state, kept.last_error) == (OutboxState.FAILED, "channel_not_found")
    with unit_of_work(bot.deps.engine) as session:
        assert session.exec(select(InboxItem)).all() == []


def test_a_chart_waits_for_its_digest_when_slack_fails_the_digest(bot):
    from tests.e2e.test_digest import SLOT, _seed_week, _subscribe

    _seed_week(bot)
    subscription = _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)
    bot.fake.fail("chat.postMessage", status=500, times=1)
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    assert bot.fake.calls("files.getUploadURLExternal") == []  # not before its digest
    bot.clock.advance(LATER)
    bot.settle()
    methods = [c.method for c in bot.fake.calls()
               if c.method in ("chat.postMessage", "files.completeUploadExternal")]
    assert methods == ["chat.postMessage", "chat.postMessage", "files.completeUploadExternal"]
