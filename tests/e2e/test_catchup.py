"""Catch-up after downtime: recent requests in tracked channels become tickets once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.sandbox.slack_api import TEAM_ID
from commands.catchup import catch_up
from storage.db import unit_of_work
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.e2e.conftest import AGENT, CHANNEL, REQUESTER, START
from tests.e2e.test_intake import OTHER_CHANNEL, cards, tickets


def ts_at(minutes: float, n: int = 0) -> str:
    return f"{int((START + timedelta(minutes=minutes)).timestamp())}.{n:06d}"


def track_since(bot, minutes: float, channel: str = CHANNEL) -> None:
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=channel,
                      at=START + timedelta(minutes=minutes))


def test_requests_posted_while_the_bot_was_down_become_tickets_once(bot):
    track_since(bot, -120)
    # Stored while the bot was up: a ticket already.
    seen, _ = bot.slack.message("VPN refuses logins")
    bot.settle()
    fake = bot.fake
    fake.add_message(CHANNEL, ts_at(-180, 1), REQUESTER, "before tracking began")
    missed = [ts_at(-30, 2), ts_at(-20, 3)]
    fake.add_message(CHANNEL, missed[0], REQUESTER, "printer on fire")
    fake.add_message(CHANNEL, missed[1], AGENT, "and the scanner too")
    fake.add_message(CHANNEL, ts_at(-19, 4), AGENT, "a reply, not a request", missed[0])
    for n, extra in ((6, {"bot_id": "B0OTHER"}), (7, {"subtype": "channel_join"})):
        fake.messages[(CHANNEL, ts_at(-15, n))] = {
            "type": "message", "user": "U0SOMEONE", "text": "not a request", "ts": ts_at(-15, n),
            **extra}
    fake.add_message(OTHER_CHANNEL, ts_at(-10, 5), REQUESTER, "untracked channel")

    bot.clock.set(START + timedelta(minutes=1))
    report = catch_up(bot.deps)
    bot.settle()
    assert (report.channels, report.unreadable) == (1, [])
    rows = tickets(bot)
    assert sorted(t.message_ts for t in rows) == sorted([seen, *missed])
    # A missed request's clock started when it was posted, not when the bot came back.
    by_ts = {t.message_ts: t for t in rows}
    assert by_ts[missed[0]].created_at.replace(microsecond=0) == START - timedelta(minutes=30)
    assert by_ts[missed[1]].requester_id == AGENT
    assert sorted(c.params["thread_ts"] for c in cards(bot)) == sorted([seen, *missed])

    # Starting again reads the same history: nothing new, nothing doubled.
    catch_up(bot.deps)
    bot.settle()
    assert len(tickets(bot)) == 3 and len(cards(bot)) == 3


def test_a_weekend_of_downtime_is_caught_up_but_not_more_than_a_week(bot):
    track_since(bot, -60 * 24 * 10)
    track_since(bot, -60, channel="CGONE")
    bot.fake.add_message(CHANNEL, ts_at(-60 * 24 * 8, 1), REQUESTER, "eight days ago")
    missed = [ts_at(-60 * 50, 2), ts_at(-60, 3)]
    bot.fake.add_message(CHANNEL, missed[0], REQUESTER, "friday evening")
    bot.fake.add_message(CHANNEL, missed[1], REQUESTER, "an hour ago")
    bot.fake.fail("conversations.history", status=200, error="not_in_channel")
    report = catch_up(bot.deps)
    bot.settle()
    assert report.channels == 2 and len(report.unreadable) == 1
    assert sorted(t.message_ts for t in tickets(bot)) in ([], missed)
    # Whichever channel hit the error, a later start reads it.
    catch_up(bot.deps)
    bot.settle()
    assert sorted(t.message_ts for t in tickets(bot)) == missed


def test_reading_starts_an_hour_before_the_channels_newest_ticket(bot):
    track_since(bot, -60 * 24 * 3)
    heard, _ = bot.slack.message("the last request the bot heard")
    bot.settle()
    # Older than the newest ticket by more than the overlap: the bot was listening then.
    bot.fake.add_message(CHANNEL, ts_at(-90, 1), REQUESTER, "seen by the bot long ago")
    within = ts_at(-30, 2)  # a little older than the newest ticket: maybe missed
    bot.fake.add_message(CHANNEL, within, REQUESTER, "lost in a crash")
    bot.fake.clear()
    catch_up(bot.deps)
    bot.settle()
    [call] = bot.fake.calls("conversations.history")
    assert float(call.params["oldest"]) == pytest.approx(float(heard) - 3600, abs=1e-3)
    assert sorted(t.message_ts for t in tickets(bot)) == sorted([heard, within])


def test_many_pages_of_history_are_all_read(bot):
    track_since(bot, -600)
    posted = [ts_at(-500 + n, n) for n in range(450)]
    for n, ts in enumerate(posted):
        bot.fake.add_message(CHANNEL, ts, REQUESTER, f"request {n}")
    report = catch_up(bot.deps)
    bot.settle(30)
    assert report.messages == 450
    assert sorted(t.message_ts for t in tickets(bot)) == sorted(posted)
    # Oldest first: numbers follow posting order.
    assert [t.message_ts for t in sorted(tickets(bot), key=lambda t: t.number)] == posted
