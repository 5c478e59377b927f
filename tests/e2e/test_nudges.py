"""Nudges end to end: the real bot and its scheduler against the fake Slack Web API.

Tickets are born from signed Slack message events; the scheduler runs on APScheduler as in
`slabot run`, on the bot's clock, which only the tests move. The first tests move it and wake
the scheduler; the last ones leave the scheduler on its own with targets of a few seconds and
let time pass from one wake-up it asked for to the next, with Slack failing part of the time.
Nothing waits for time to pass: when a test needs to know that no duplicate will come, it stops
the scheduler (running cycles finish) and looks once more itself.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.date import DateTrigger
from sqlmodel import select

from bot.nudges import SenderOptions
from bot.sandbox.slack_api import TEAM_ID
from bot.scheduler import SchedulerOptions, run_cycle, start_scheduler
from bot.server import BackgroundServer, create_server
from sla.calendar import BusinessCalendar
from sla.policy import Policy
from sla.targets import Metric, Priority
from storage.models import Nudge, NudgeState
from storage.repositories import nudges as outbox
from storage.repositories import workspaces as workspace_repo
from tests.closing import close_later
from tests.e2e.conftest import AGENT, CHANNEL, START
from tests.waits import wait_until

ESCALATION_CHANNEL = "C0ESCALATE"
MANAGER = "UMANAGER"


def p2_always() -> Policy:
    """24x7; new tickets are P2 (first response 1h, resolution 8h)."""
    return replace(Policy.default(BusinessCalendar.always()), default_priority=Priority.P2)


def configure(deps, policy: Policy) -> None:
    """Track the support channel with `policy`, escalating to a channel and a manager."""
    with deps.unit_of_work() as session:
        ws = workspace_repo.get_or_create_workspace(session=session, team_id=TEAM_ID)
        workspace_repo.track_channel(session=session, workspace_id=ws.id, channel_id=CHANNEL)
        workspace_repo.configure_channel(
            session=session,
            workspace_id=ws.id,
            channel_id=CHANNEL,
            escalation_channel_ids=[ESCALATION_CHANNEL],
            manager_user_ids=[MANAGER],
        )
        workspace_repo.save_policy(
            session=session, workspace_id=ws.id, policy=policy, channel_id=CHANNEL
        )


def nudge_messages(fake) -> list[tuple[str, str, str]]:
    """(marker, channel, text) of every nudge the fake holds, in posting order."""
    found = []
    with fake._lock:
        messages = sorted(fake.messages.items(), key=lambda item: item[1]["ts"])
    for (channel, _ts), message in messages:
        for block in message.get("blocks") or ():
            marker = block.get("block_id", "")
            if marker.startswith("slabot-nudge:"):
                found.append((marker, channel, message["text"]))
    return found


def dispatcher_states(handle):
    return [handle.planner.state(), handle.sender.state(), handle.inbox.state()]


def quiet(handle, now) -> bool:
    """No dispatcher has a wake-up due by `now`: a cycle keeps the wake-up that started it
    until it is over and has asked for the next (sweeps, which would not, are an hour apart)."""
    return all(s.next_wake_at is None or s.next_wake_at > now for s in dispatcher_states(handle))


def wait_quiet(bot, handle) -> None:
    wait_until(lambda: quiet(handle, bot.clock.now()), "the scheduler's cycles to finish")


def start_scheduled(bot, options: SchedulerOptions):
    """Start the scheduler (sweeps an hour apart) once its first sweeps are over."""
    handle = start_scheduler(bot.deps, options, send_digest=lambda sid, slot: None)
    wait_until(lambda: all(s.cycles for s in dispatcher_states(handle)), "the first sweeps")
    return handle


def settled(bot, handle) -> list[tuple[str, str, str]]:
    """Every nudge the bot will ever send up to the clock's instant: stop the scheduler (its
    running cycles finish) and plan and send once more in the test's thread."""
    handle.stop()
    run_cycle(bot.deps, handle.options)
    return nudge_messages(bot.fake)


@pytest.fixture
def scheduled(bot):
    """The harness bot with its scheduler running (sweep off: the test wakes it)."""
    configure(bot.deps, p2_always())
    handle = start_scheduled(bot, SchedulerOptions(holder="e2e", sweep_every=timedelta(hours=1)))
    yield bot, handle
    handle.stop()


def look(bot, handle, minutes: float) -> None:
    """Move the clock to START + minutes, wake the scheduler, wait until its cycles are over."""
    bot.clock.set(START + timedelta(minutes=minutes))
    handle.wake()
    wait_quiet(bot, handle)


def step(bot, handle, minutes: float, expect: int) -> list[tuple[str, str, str]]:
    """`look` at START + minutes and wait for `expect` nudges in all."""
    look(bot, handle, minutes)
    wait_until(lambda: len(nudge_messages(bot.fake)) >= expect, f"{expect} nudges")
    return nudge_messages(bot.fake)


def test_fifty_eighty_and_breach_arrive_in_order_once_each(scheduled):
    bot, handle = scheduled
    ts, response = bot.slack.message("the export page is down again")  # P2: 1h first response
    assert response.status == 200
    bot.settle()
    step(bot, handle, 29, 0)
    assert nudge_messages(bot.fake) == []
    step(bot, handle, 30, 1)
    step(bot, handle, 48, 2)
    step(bot, handle, 60, 5)
    for minutes in (60, 61, 75):  # later looks find nothing new
        look(bot, handle, minutes)
    sent = settled(bot, handle)
    assert [(channel, text.split(" ", 2)[2][:40]) for _m, channel, text in sent] == [
        (CHANNEL, "First response due in 30m of business ti"),
        (CHANNEL, "First response due in 12m of business ti"),
        (CHANNEL, "First response target of 1h breached at "),
        (ESCALATION_CHANNEL, "First response target of 1h breached at "),
        ("D" + MANAGER.lstrip("U"), "First response target of 1h breached at "),
    ]
    assert all(text.split()[1] == "*SLA-1*" for _m, _c, text in sent)
    # The thread ones are replies in the ticket's thread; the escalation links to it.
    thread_replies = [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts")]
    assert {c.params["thread_ts"] for c in thread_replies} == {ts}
    assert f"https://fake.slack.test/archives/{CHANNEL}/p{ts.replace('.', '')}" in sent[3][2]


def card_updates(bot, card_ts: str) -> list[tuple[str, str]]:
    """(fallback text, due fields) of each chat.update of the ticket card, oldest first."""
    found = []
    for call in bot.fake.calls("chat.update"):
        if call.params.get("channel") == CHANNEL and call.params.get("ts") == card_ts:
            fields = [
                f["text"]
                for block in call.json_param("blocks") or ()
                for f in block.get("fields") or ()
            ]
            found.append((call.params["text"], " | ".join(fields)))
    return found


def test_the_ticket_card_shows_the_breach_once_the_breach_nudge_is_out(scheduled):
    bot, handle = scheduled
    bot.slack.message("the export page is down again")  # P2: first response 1h
    bot.settle()
    card_ts = _card_ts(bot)
    assert "in 1 h, 12:00 Berlin" in str(bot.fake.messages[(CHANNEL, card_ts)]["blocks"])
    step(bot, handle, 30, 1)
    wait_until(lambda: len(card_updates(bot, card_ts)) >= 1, "the card after the 50%")
    assert "*First response*\nin 30 min, 12:00 Berlin" in card_updates(bot, card_ts)[-1][1]
    step(bot, handle, 62, 4)  # the breach, two minutes late (thread, escalation, manager)
    wait_until(lambda: "SLA breached" in card_updates(bot, card_ts)[-1][0], "the breached card")
    text, due = card_updates(bot, card_ts)[-1]
    assert text == "SLA-1 · P2 · Open · SLA breached"
    assert "*First response*\n:rotating_light: overdue by 2 min (was due 12:00 Berlin)" in due
    assert "in 1 h" not in str(bot.fake.messages[(CHANNEL, card_ts)]["blocks"])


def _card_ts(bot) -> str:
    from storage.models import Ticket

    with bot.deps.unit_of_work() as session:
        [ticket] = session.exec(select(Ticket)).all()
        return ticket.card_ts


def test_the_eighty_percent_nudge_reaches_the_assignee_by_dm(scheduled):
    bot, handle = scheduled
    root, _ = bot.slack.message("invoices are wrong")  # P2: resolution 8h
    bot.settle()  # the ticket exists before the reply arrives
    bot.clock.set(START + timedelta(minutes=5))
    bot.slack.message("Looking into it", user=AGENT, thread_ts=root)  # AGENT is the assignee
    bot.settle()
    sent = step(bot, handle, 4 * 60, 1)  # resolution 50%: the thread only
    assert [channel for _m, channel, _t in sent] == [CHANNEL]
    step(bot, handle, 6 * 60 + 24, 3)  # resolution 80%: the thread and the assignee
    sent = settled(bot, handle)  # nobody else is told by mistake
    assert [channel for _m, channel, _t in sent] == [CHANNEL, CHANNEL, "D" + AGENT.lstrip("U")]
    dm = sent[2][2]
    assert dm.startswith(
        ":hourglass_flowing_sand: *SLA-1* Resolution due in 1h 36m of business time "
        "(18:00 UTC): 80% of the 8h target is used."
    )
    assert f"<@{AGENT}>" not in dm  # a DM mentions nobody; the thread reply does
    assert f"in <#{CHANNEL}>: <https://fake.slack.test/archives/{CHANNEL}/p" in dm
    assert f"<@{AGENT}>" in sent[1][2]
    [dm_call] = [
        c for c in bot.fake.calls("chat.postMessage") if c.params.get("channel") == "DAGENT"
    ]
    assert not dm_call.params.get("thread_ts")


def test_health_and_metrics_show_the_scheduler_and_the_outbox(scheduled):
    bot, handle = scheduled
    server = BackgroundServer(
        create_server(bot.app, bot.deps, registry=handle.registry, health=handle.health)
    ).start()
    try:
        bot.slack.message("printer on fire")
        bot.settle()
        step(bot, handle, 30, 1)
        wait_until(lambda: handle.health()["outbox_backlog"] == 0, "an empty outbox")
        health = _get_json(server.url + "/healthz")
        assert health["status"] == "ok"
        assert health["scheduler"]["running"] is True
        assert health["scheduler"]["instance"] == "e2e"
        assert health["outbox_backlog"] == 0
        metrics = _get_text(server.url + "/metrics")
        assert 'slabot_nudges_sent_total{metric="first_response"} 1.0' in metrics
        assert "slabot_outbox_pending 0.0" in metrics
        assert "slabot_slack_requests_total" in metrics  # one registry for the whole bot
    finally:
        close_later(server.stop)


def _get_json(url):
    import json
    from urllib.request import urlopen

    with urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _get_text(url):
    from urllib.request import urlopen

    with urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_resolving_by_reaction_stops_the_nudges(scheduled):
    bot, handle = scheduled
    ts, _ = bot.slack.message("cannot log in")
    bot.settle()
    step(bot, handle, 30, 1)
    bot.clock.set(START + timedelta(minutes=35))
    bot.slack.reaction("white_check_mark", ts=ts)
    bot.settle()
    for minutes in (48, 60, 600):
        look(bot, handle, minutes)
    assert len(settled(bot, handle)) == 1


def claimed_by_a_dead_process(bot) -> int:
    """A ticket whose 50% first-response nudge a process claimed at minute 30, then died."""
    configure(bot.deps, p2_always())
    bot.slack.message("disk full")
    bot.settle()
    dead = SchedulerOptions(
        holder="dead-process", sender=SenderOptions(holder="dead-process", batch=0)
    )
    bot.clock.set(START + timedelta(minutes=30))
    run_cycle(bot.deps, dead)  # planned, not sent (batch 0)
    with bot.deps.unit_of_work() as session:
        [row] = outbox.claim_pending_nudges(
            session=session,
            now=bot.clock.now(),
            holder="dead-process",
            limit=1,
            lease=timedelta(seconds=30),
        )
        return row.id


def posted_by_the_dead_process(bot, nudge_id: int) -> None:
    """What the dead process managed before dying: the thread reply, with its marker."""
    bot.deps.client.chat_postMessage(
        channel=CHANNEL,
        thread_ts=bot.fake.calls("chat.postMessage")[0].params["thread_ts"],
        text="SLA-1 First response due in 30m",
        blocks=[
            {
                "type": "section",
                "block_id": f"slabot-nudge:{nudge_id}:thread:{CHANNEL}",
                "text": {"type": "mrkdwn", "text": "SLA-1 First response due in 30m"},
            }
        ],
    )


def test_a_nudge_posted_before_a_crash_is_not_posted_again(bot):
    """Slack took the message, then the process died before recording it: the retry finds
    the earlier post by its marker and only records it."""
    nudge_id = claimed_by_a_dead_process(bot)
    posted_by_the_dead_process(bot, nudge_id)
    bot.clock.set(START + timedelta(minutes=31))  # the lease has run out
    run_cycle(bot.deps, SchedulerOptions(holder="survivor"))
    assert len(nudge_messages(bot.fake)) == 1
    with bot.deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        assert (row.state, row.attempts, row.delivered) == (
            NudgeState.SENT,
            2,
            [f"thread:{CHANNEL}"],
        )


def test_a_nudge_posted_before_a_crash_and_then_superseded_is_recorded_as_sent(bot):
    """The dead process posted the 50% nudge; by the time a survivor takes the row over the
    ticket is past its breach. The row must say what people saw (sent), not "cancelled"."""
    nudge_id = claimed_by_a_dead_process(bot)
    posted_by_the_dead_process(bot, nudge_id)
    bot.clock.set(START + timedelta(minutes=75))  # past the 1 h first-response target
    run_cycle(bot.deps, SchedulerOptions(holder="survivor"))
    with bot.deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        assert (row.state, row.delivered) == (NudgeState.SENT, [f"thread:{CHANNEL}"])
        assert row.last_error == "the rest not sent: superseded by the breach"
    markers = [marker for marker, _channel, _text in nudge_messages(bot.fake)]
    assert markers.count(f"slabot-nudge:{nudge_id}:thread:{CHANNEL}") == 1


def test_a_claimed_nudge_nobody_posted_is_cancelled_when_superseded(bot):
    nudge_id = claimed_by_a_dead_process(bot)
    bot.clock.set(START + timedelta(minutes=75))
    run_cycle(bot.deps, SchedulerOptions(holder="survivor"))
    with bot.deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        assert (row.state, row.delivered or [], row.last_error) == (
            NudgeState.CANCELLED,
            [],
            "superseded by the breach",
        )


# ------------------------------------------------------- the scheduler on its own


def seconds_policy(seconds: float) -> Policy:
    """24x7, P2 first response of a few seconds: nudges at 50%, 80% and the breach."""
    return p2_always().with_target(Priority.P2, Metric.FIRST_RESPONSE, timedelta(seconds=seconds))


@pytest.fixture
def on_its_own(bot):
    """Start the scheduler as `slabot run` does (sender backoff 300 ms), with a target of
    `target_seconds`; nobody wakes it: tests only let time pass (`let_time_pass`)."""
    started = []

    def start(target_seconds: float):
        configure(bot.deps, seconds_policy(target_seconds))
        options = SchedulerOptions(
            holder="live",
            sweep_every=timedelta(hours=1),
            sender=SenderOptions(holder="live", backoff=timedelta(milliseconds=300)),
        )
        started.append(start_scheduled(bot, options))
        return started[-1]

    yield start
    for handle in started:
        handle.stop()


def fire_timers(handle, now: datetime) -> None:
    """Run at once the wake-up timers (APScheduler date jobs) of the dispatchers that asked to
    be woken by `now`: each set its timer on the wall clock, which has not moved as far."""
    due = [d for d in (handle.planner, handle.sender, handle.inbox)
           if d.state().next_wake_at is not None and d.state().next_wake_at <= now]
    for job in handle.scheduler.get_jobs():
        if isinstance(job.trigger, DateTrigger) and getattr(job.func, "__self__", None) in due:
            with suppress(JobLookupError):  # it ran and went meanwhile
                job.modify(next_run_time=datetime.now(UTC))


def let_time_pass(bot, handle, done, *, until: timedelta) -> None:
    """Until `done()`: wait for the scheduler's cycles to be over, move the clock to the
    earliest wake-up it asked for and fire the timers it set for it. Fails if it asks for none
    or for one past START + `until`."""
    while True:
        wait_quiet(bot, handle)
        if done():
            return
        wakes = [s.next_wake_at for s in dispatcher_states(handle) if s.next_wake_at]
        assert wakes, "the scheduler is waiting for nothing"
        at = min(wakes)
        assert at <= START + until, f"not done by START + {until}; next wake-up at {at}"
        bot.clock.set(at)
        fire_timers(handle, at)


def sent_rows(bot) -> list[Nudge]:
    with bot.deps.unit_of_work() as session:
        return list(session.exec(select(Nudge).order_by(Nudge.planned_at)))


def expected_markers(sent) -> Counter:
    return Counter(marker for marker, _channel, _text in sent)


def test_the_scheduler_wakes_itself_at_each_threshold_and_nudges_once_each(bot, on_its_own):
    handle = on_its_own(4)  # nudges 2 s, 3.2 s and 4 s after the request
    bot.slack.message("the VPN drops every minute")
    bot.settle()
    let_time_pass(bot, handle, lambda: len(nudge_messages(bot.fake)) >= 5,
                  until=timedelta(seconds=12))
    sent = settled(bot, handle)
    thread = [text for _m, channel, text in sent if channel == CHANNEL]
    assert ["50%" in thread[0], "80%" in thread[1], "breached" in thread[2]] == [True] * 3
    assert max(expected_markers(sent).values()) == 1
    rows = sent_rows(bot)
    assert [r.threshold for r in rows] == [0.5, 0.8, 1.0]
    # Each went out at its planned instant (2 s, 3.2 s, 4 s after the post): the clock only
    # ever moved to the wake-ups the scheduler asked for, and it asked for these.
    assert [r.planned_at - rows[0].planned_at for r in rows] == [
        timedelta(0), timedelta(seconds=1.2), timedelta(seconds=2)]
    assert [r.sent_at for r in rows] == [r.planned_at for r in rows]


def test_rate_limits_and_server_errors_still_deliver_each_nudge_once(
    bot, on_its_own, slack_retry_waits
):
    handle = on_its_own(30)  # nudges 15 s, 24 s and 30 s after the request
    bot.slack.message("orders are stuck")
    bot.settle()
    # From now on Slack answers 429 (Retry-After: 1) and 5xx part of the time: slack_sdk's
    # retry handlers absorb some, the outbox retries the rest.
    bot.fake.fail("chat.postMessage", status=429, retry_after=1, times=2)
    bot.fake.fail("chat.postMessage", status=503, times=3)
    bot.fake.fail("chat.postMessage", status=502, times=1)
    let_time_pass(bot, handle, lambda: len(nudge_messages(bot.fake)) >= 5,
                  until=timedelta(seconds=60))
    sent = settled(bot, handle)
    assert max(expected_markers(sent).values()) == 1
    thread = [text for _m, channel, text in sent if channel == CHANNEL]
    assert ["50%" in thread[0], "80%" in thread[1], "breached" in thread[2]] == [True] * 3
    assert len(sent) == 5
    rows = sent_rows(bot)
    assert [(r.threshold, r.state) for r in rows] == [
        (0.5, NudgeState.SENT),
        (0.8, NudgeState.SENT),
        (1.0, NudgeState.SENT),
    ]
    assert sum(r.attempts for r in rows) > 3  # some needed the outbox's own retry
    failed_calls = len(bot.fake.calls("chat.postMessage")) - len(sent) - 1  # minus the card
    assert failed_calls == 6
    assert len(slack_retry_waits) == 2 and min(slack_retry_waits) >= 1  # Retry-After honoured
