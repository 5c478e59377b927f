"""Nudges at the right instants, exactly once: the scheduler's cycle under a controlled clock.

Tickets move through the real ticket service (commands.lifecycle) on a real database (SQLite,
and PostgreSQL when TEST_DATABASE_URL is set); Slack is a recording notifier. Time only moves
when a test moves the clock, and each step runs one scheduler cycle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.metrics import SchedulerMetrics
from bot.nudges import SenderOptions
from bot.outbox import send_outbox
from bot.scheduler import SchedulerOptions, plan_due_tickets, run_cycle
from commands import intake, lifecycle
from commands.deps import Deps
from sla.calendar import BusinessCalendar
from sla.policy import Policy
from sla.targets import Audience, Metric, NudgeRule, Priority
from storage.models import NudgeState, OutboxMessage
from storage.repositories import nudges as outbox
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo
from tests.clocks import FixedClock

TEAM = "T1"
CHANNEL = "CSUPPORT"
ESCALATION_CHANNEL = "CESCALATE"
MANAGER = "UMANAGER"
REQUESTER = "UREQ"
AGENT = "UAGENT"
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class Post:
    kind: str  # thread | channel | dm
    target: str
    text: str


@dataclass
class RecordingNotifier:
    """Stands in for Slack; `fail_next` makes the next calls to a target raise."""

    posts: list[Post] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (message ts, fallback text, blocks) of every chat.update, i.e. the card refreshes.
    updates: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    update_errors: list[BaseException] = field(default_factory=list)

    def fail_next(self, target: str, *errors: BaseException) -> None:
        self.failures.setdefault(target, []).extend(errors)

    def _post(self, kind: str, target: str, text: str, **kw: Any) -> dict[str, Any]:
        with self.lock:
            queue = self.failures.get(target)
            if queue:
                raise queue.pop(0)
            self.posts.append(Post(kind, target, text))
            return {"ok": True, "ts": f"{1_800_000_000 + len(self.posts)}.000100"}

    def post_thread_reply(self, channel, thread_ts, text, **kw):
        return self._post("thread", channel, text, **kw)

    def post_message(self, channel, text, **kw):
        return self._post("channel", channel, text, **kw)

    def dm_user(self, user, text, **kw):
        return self._post("dm", user, text, **kw)

    # What the ticket service needs besides posting.
    def update_message(self, channel, ts, text, **kw):
        with self.lock:
            if self.update_errors:
                raise self.update_errors.pop(0)
            self.updates.append((ts, text, kw.get("blocks") or []))
        return {"ok": True, "ts": ts}

    def permalink(self, channel, ts):
        return f"https://acme.slack.test/archives/{channel}/p{ts.replace('.', '')}"

    message_link = permalink

    def user_info(self, user):
        return {"id": user, "tz": "UTC"}

    def nudges(self) -> list[Post]:
        """Posts that are nudges (not ticket cards)."""
        return [
            p
            for p in self.posts
            if "SLA-" in p.text and ("due in" in p.text or "breached" in p.text)
        ]


def slack_error(code: str, status: int = 200) -> SlackApiError:
    return SlackApiError(f"The request failed: {code}", {"ok": False, "error": code})


class World:
    """A workspace with one tracked channel, a clock, the bot's deps and one scheduler."""

    def __init__(self, engine, uow, policy: Policy, start: datetime = MONDAY_10):
        self.clock = FixedClock(start)
        self.notifier = RecordingNotifier()
        self.uow = uow
        self.deps = Deps(
            settings=None,
            engine=engine,
            unit_of_work=uow,
            clock=self.clock,
            client=None,
            notifier=self.notifier,
        )
        self.metrics = SchedulerMetrics()
        self.options = scheduler_options("replica-a")
        self.opened = 0
        with uow() as session:
            ws = workspace_repo.get_or_create_workspace(session=session, team_id=TEAM)
            self.workspace_id = ws.id
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

    def open(self, text: str = "the export is broken", priority: Priority = Priority.P2):
        self.opened += 1
        ts = f"{int(self.clock.now().timestamp())}.{self.opened:06d}"
        result = intake.open_ticket(
            self.deps,
            team_id=TEAM,
            channel_id=CHANNEL,
            message_ts=ts,
            user_id=REQUESTER,
            text=text,
            source="message",
            priority=priority,
        )
        # The sender delivers the new card at once, as it does when woken after the commit.
        send_outbox(self.deps, holder=self.options.holder, workers=1)
        return result.ticket.key

    def at(self, when: datetime) -> datetime | None:
        """Move the clock to `when` and run one scheduler cycle; returns its next wake-up."""
        self.clock.set(when)
        return run_cycle(self.deps, self.options, metrics=self.metrics)

    def nudge_rows(self, key: str):
        with self.uow() as session:
            ticket = ticket_repo.get_ticket_by_key(
                session=session, workspace_id=self.workspace_id, key=key
            )
            return outbox.list_nudges(session=session, ticket_id=ticket.id)


def scheduler_options(holder: str, **sender: Any) -> SchedulerOptions:
    return SchedulerOptions(holder=holder, sender=SenderOptions(holder=holder, **sender))


def always_policy(**kw) -> Policy:
    policy = Policy.default(BusinessCalendar.always())
    return policy.with_nudges([0.5, 0.8], **kw) if kw else policy


@pytest.fixture
def world(engine, uow):
    return World(engine, uow, always_policy())


def texts(posts):
    return [(p.kind, p.target, p.text) for p in posts]


# --------------------------------------------------------------------- thresholds on time


def test_half_way_nudge_fires_at_exactly_half_the_target_on_a_24x7_calendar(world):
    key = world.open()  # P2: first response 1h, resolution 8h
    assert world.at(MONDAY_10 + timedelta(minutes=29, seconds=59)) == MONDAY_10 + timedelta(
        minutes=30
    )
    assert world.notifier.nudges() == []
    world.at(MONDAY_10 + timedelta(minutes=30))
    assert texts(world.notifier.nudges()) == [
        (
            "thread",
            CHANNEL,
            f":hourglass_flowing_sand: *{key}* First response due in 30m of "
            "business time (11:00 UTC): 50% of the 1h target is used.",
        ),
    ]


def test_eighty_percent_and_breach_reach_their_audiences_in_order(world):
    key = world.open()
    lifecycle.assign(world.deps, team_id=TEAM, user_id=AGENT, key=key, assignee_id=AGENT)
    world.at(MONDAY_10 + timedelta(minutes=30))
    next_wake = world.at(MONDAY_10 + timedelta(minutes=48))
    assert next_wake == MONDAY_10 + timedelta(hours=1)
    world.at(MONDAY_10 + timedelta(hours=1))
    sent = [(p.kind, p.target) for p in world.notifier.nudges()]
    assert sent == [
        ("thread", CHANNEL),  # 50%
        ("thread", CHANNEL),  # 80%
        ("dm", AGENT),
        ("thread", CHANNEL),  # breach
        ("channel", ESCALATION_CHANNEL),
        ("dm", MANAGER),
    ]
    breach = world.notifier.nudges()[-2].text
    assert f"*{key}* First response target of 1h breached at 11:00 UTC" in breach
    assert "<https://acme.slack.test/archives/CSUPPORT/p" in breach


def test_each_threshold_is_sent_once_however_often_the_scheduler_runs(world):
    world.open()
    for minute in (30, 30, 31, 35, 47):
        world.at(MONDAY_10 + timedelta(minutes=minute))
    assert len(world.notifier.nudges()) == 1
    assert [r.state for r in world.nudge_rows("SLA-1")] == [NudgeState.SENT]


def test_business_hours_nudges_wait_for_monday_across_the_dst_weekend(engine, uow):
    # New York leaves daylight time on Sunday 1 Nov 2026: Friday is UTC-4, Monday UTC-5.
    calendar = BusinessCalendar(
        "America/New_York", {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    policy = Policy.default(calendar).with_target(
        Priority.P2, Metric.FIRST_RESPONSE, timedelta(hours=2)
    )
    friday_4pm = datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    world = World(engine, uow, policy, start=friday_4pm)
    world.open()
    # 50% = 1h of business time = Friday 17:00 New York, the closing instant.
    next_wake = world.at(friday_4pm + timedelta(hours=1))
    (half_way,) = world.notifier.nudges()
    # Business time: the hour left is Monday's first hour.
    assert "First response due in 1h of business time (Mon 2 Nov 10:00 New York)" in (half_way.text)
    # 80% = 1h36m: Friday's last hour, then 36 minutes on Monday from 09:00 EST (14:00 UTC).
    assert next_wake == datetime(2026, 11, 2, 14, 36, tzinfo=UTC)
    for night in (
        datetime(2026, 10, 31, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 35, 59, tzinfo=UTC),
    ):
        world.at(night)
    assert len(world.notifier.nudges()) == 1  # nobody is pinged over the weekend
    world.at(datetime(2026, 11, 2, 14, 36, tzinfo=UTC))
    assert len(world.notifier.nudges()) == 2
    assert "(10:00 New York): 80% of the 2h target" in world.notifier.nudges()[1].text


def test_pause_shifts_the_thresholds_by_the_paused_time(world):
    key = world.open()
    world.clock.set(MONDAY_10 + timedelta(minutes=10))
    lifecycle.pause(world.deps, team_id=TEAM, user_id=AGENT, key=key)
    world.at(MONDAY_10 + timedelta(minutes=30))  # would be 50%, but the clock is stopped
    assert world.notifier.nudges() == []
    world.clock.set(MONDAY_10 + timedelta(minutes=40))
    lifecycle.resume(world.deps, team_id=TEAM, user_id=AGENT, key=key)
    assert world.at(MONDAY_10 + timedelta(minutes=59, seconds=59)) == MONDAY_10 + timedelta(hours=1)
    assert world.notifier.nudges() == []
    world.at(MONDAY_10 + timedelta(hours=1))
    assert len(world.notifier.nudges()) == 1
    assert "due in 30m" in world.notifier.nudges()[0].text


def test_a_resolved_ticket_gets_no_more_nudges(world):
    key = world.open()
    world.at(MONDAY_10 + timedelta(minutes=30))
    world.clock.set(MONDAY_10 + timedelta(minutes=40))
    lifecycle.resolve(world.deps, team_id=TEAM, user_id=AGENT, key=key)
    for hours in (1, 4, 8, 24):
        assert world.at(MONDAY_10 + timedelta(hours=hours)) is None
    assert len(world.notifier.nudges()) == 1


def test_a_resolve_between_claim_and_send_cancels_the_send(world):
    key = world.open()
    world.clock.set(MONDAY_10 + timedelta(minutes=30))
    plan_due_tickets(world.deps, world.options)  # the 50% nudge is in the outbox now
    assert [r.state for r in world.nudge_rows(key)] == [NudgeState.PENDING]
    lifecycle.resolve(world.deps, team_id=TEAM, user_id=AGENT, key=key)
    world.at(MONDAY_10 + timedelta(minutes=30, seconds=1))
    assert world.notifier.nudges() == []
    assert [r.state for r in world.nudge_rows(key)] == [NudgeState.CANCELLED]


def test_first_response_stops_its_nudges_but_resolution_keeps_counting(world):
    key = world.open()
    with world.uow() as session:
        ticket = ticket_repo.get_ticket_by_key(
            session=session, workspace_id=world.workspace_id, key=key
        )
    world.clock.set(MONDAY_10 + timedelta(minutes=20))
    lifecycle.record_response(
        world.deps, team_id=TEAM, channel_id=CHANNEL, thread_ts=ticket.thread_ts, user_id=AGENT
    )
    world.at(MONDAY_10 + timedelta(hours=1))
    assert world.notifier.nudges() == []
    world.at(MONDAY_10 + timedelta(hours=4))  # resolution: 50% of 8h
    assert ["Resolution due in 4h" in p.text for p in world.notifier.nudges()] == [True]


# --------------------------------------------------------------------- downtime


def test_after_downtime_only_the_most_severe_nudge_goes_out_marked_late(world):
    key = world.open()
    world.at(MONDAY_10 + timedelta(hours=3))  # first look 3 h in: 50%, 80%, breach all passed
    nudges = world.notifier.nudges()
    thread = [p for p in nudges if p.kind == "thread"]
    assert len(thread) == 1
    assert "First response target of 1h breached" in thread[0].text
    assert thread[0].text.endswith("sent 2h late: the bot was offline")
    assert world.metrics.nudges_late.labels(metric="first_response")._value.get() == 1
    rows = {(r.threshold, r.state, r.late) for r in world.nudge_rows(key)}
    assert rows == {
        (0.5, NudgeState.SKIPPED, True),
        (0.8, NudgeState.SKIPPED, True),
        (1.0, NudgeState.SENT, True),
    }
    world.at(MONDAY_10 + timedelta(hours=3, minutes=1))
    assert len(world.notifier.nudges()) == len(nudges)  # the skipped ones never fire


def test_re_escalation_reaches_the_escalation_channel_again(engine, uow):
    world = World(engine, uow, always_policy(reescalate_every=timedelta(minutes=30)))
    world.open()
    for minutes in (30, 48, 60, 89):
        world.at(MONDAY_10 + timedelta(minutes=minutes))
    before = len(world.notifier.nudges())
    world.at(MONDAY_10 + timedelta(minutes=90))
    reminder = world.notifier.nudges()[before:]
    assert {(p.kind, p.target) for p in reminder} == {
        ("thread", CHANNEL),
        ("channel", ESCALATION_CHANNEL),
        ("dm", MANAGER),
    }
    assert all(
        "still breached: overdue by 30m of business time (reminder 1)" in p.text for p in reminder
    )


# --------------------------------------------------------------------- delivery faults


def test_a_failed_send_is_retried_later_and_delivered_once(world):
    world.open()
    world.notifier.fail_next(CHANNEL, slack_error("internal_error"))
    next_wake = world.at(MONDAY_10 + timedelta(minutes=30))
    assert world.notifier.nudges() == []
    assert next_wake == MONDAY_10 + timedelta(minutes=30, seconds=5)  # first backoff step
    world.at(next_wake)
    assert len(world.notifier.nudges()) == 1
    row = world.nudge_rows("SLA-1")[0]
    assert (row.state, row.attempts, row.last_error) == (
        NudgeState.SENT,
        2,
        "SlackApiError: internal_error",
    )


def test_a_nudge_that_keeps_failing_ends_failed_after_the_last_attempt(world, caplog):
    world.options = scheduler_options("replica-a", max_attempts=3)
    world.open()
    world.notifier.fail_next(CHANNEL, *(slack_error("internal_error") for _ in range(10)))
    at = MONDAY_10 + timedelta(minutes=30)
    for _ in range(5):
        at = world.at(at) or at + timedelta(minutes=10)
    row = world.nudge_rows("SLA-1")[0]
    assert (row.state, row.attempts) == (NudgeState.FAILED, 3)
    assert world.metrics.nudges_failed.labels(metric="first_response")._value.get() == 1
    assert any(getattr(r, "event", None) == "nudge failed for good" for r in caplog.records)


def test_a_destination_that_can_never_work_does_not_block_the_others(world):
    world.open()
    world.notifier.fail_next(ESCALATION_CHANNEL, slack_error("channel_not_found"))
    world.at(MONDAY_10 + timedelta(hours=3))  # breach: thread, escalation channel, manager
    assert [(p.kind, p.target) for p in world.notifier.nudges()] == [
        ("thread", CHANNEL),
        ("dm", MANAGER),
    ]
    assert world.nudge_rows("SLA-1")[-1].state == NudgeState.SENT


def test_a_nudge_that_reached_one_destination_is_sent_though_another_was_given_up(world):
    key = world.open()
    lifecycle.assign(world.deps, team_id=TEAM, user_id=AGENT, key=key, assignee_id=AGENT)
    world.notifier.fail_next(AGENT, slack_error("user_disabled"))
    world.at(MONDAY_10 + timedelta(minutes=48))  # 80%: the thread and the assignee's DM
    assert [(p.kind, p.target) for p in world.notifier.nudges()] == [("thread", CHANNEL)]
    row = world.nudge_rows(key)[-1]
    assert (row.threshold, row.state) == (0.8, NudgeState.SENT)
    assert row.last_error == f"dm:{AGENT}: user_disabled"
    assert world.metrics.nudges_failed.labels(metric="first_response")._value.get() == 0
    assert world.metrics.nudges_sent.labels(metric="first_response")._value.get() == 1


def test_a_nudge_whose_every_destination_was_given_up_fails(world, caplog):
    world.open()
    world.notifier.fail_next(CHANNEL, slack_error("is_archived"))
    world.at(MONDAY_10 + timedelta(minutes=30))  # 50%: the thread only
    assert world.notifier.nudges() == []
    row = world.nudge_rows("SLA-1")[0]
    assert (row.state, row.last_error) == (NudgeState.FAILED, f"thread:{CHANNEL}: is_archived")
    assert world.metrics.nudges_failed.labels(metric="first_response")._value.get() == 1
    assert any(getattr(r, "event", None) == "nudge failed: no destination reachable"
               for r in caplog.records)


def test_a_destination_given_up_is_never_counted_as_reached_by_a_retry(world):
    """Thread given up, then a temporary error: the retry skips the thread without taking it
    for reached, so a nudge whose other destinations are given up too has reached nobody."""
    world.open()
    world.notifier.fail_next(CHANNEL, slack_error("is_archived"))
    world.notifier.fail_next(ESCALATION_CHANNEL, slack_error("internal_error"),
                             slack_error("channel_not_found"))
    world.notifier.fail_next(MANAGER, slack_error("user_disabled"))
    retry = world.at(MONDAY_10 + timedelta(hours=3))  # breach: thread, channel, manager
    row = world.nudge_rows("SLA-1")[-1]
    assert (row.state, row.delivered, row.given_up) == (
        NudgeState.PENDING, None, {f"thread:{CHANNEL}": "is_archived"})
    world.at(retry)
    assert world.notifier.nudges() == []
    row = world.nudge_rows("SLA-1")[-1]
    assert row.state == NudgeState.FAILED
    assert row.last_error == (f"thread:{CHANNEL}: is_archived; channel:{ESCALATION_CHANNEL}: "
                              f"channel_not_found; dm:{MANAGER}: user_disabled")
    assert world.metrics.nudges_sent.labels(metric="first_response")._value.get() == 0


def test_a_retry_that_reaches_the_rest_keeps_what_an_earlier_attempt_gave_up(world):
    world.open()
    world.notifier.fail_next(CHANNEL, slack_error("is_archived"))
    world.notifier.fail_next(ESCALATION_CHANNEL, slack_error("internal_error"))
    world.at(world.at(MONDAY_10 + timedelta(hours=3)))
    assert [(p.kind, p.target) for p in world.notifier.nudges()] == [
        ("channel", ESCALATION_CHANNEL), ("dm", MANAGER)]
    row = world.nudge_rows("SLA-1")[-1]
    assert (row.state, row.last_error) == (NudgeState.SENT, f"thread:{CHANNEL}: is_archived")
    assert sorted(row.delivered) == sorted([f"channel:{ESCALATION_CHANNEL}", f"dm:{MANAGER}"])


def test_a_retry_after_a_partial_failure_skips_destinations_already_reached(world):
    world.open()
    world.notifier.fail_next(MANAGER, slack_error("ratelimited"))
    retry = world.at(MONDAY_10 + timedelta(hours=3))
    world.at(retry)
    assert [(p.kind, p.target) for p in world.notifier.nudges()] == [
        ("thread", CHANNEL),
        ("channel", ESCALATION_CHANNEL),
        ("dm", MANAGER),
    ]


# --------------------------------------------------------------------- several replicas


def test_two_replicas_taking_turns_send_each_nudge_once(world):
    replicas = [world.options, scheduler_options("replica-b")]
    world.open()
    world.open("second ticket")
    at = MONDAY_10
    for step in range(40):
        at += timedelta(minutes=3)
        world.clock.set(at)
        run_cycle(world.deps, replicas[step % 2], metrics=world.metrics)
    thread = [p.text for p in world.notifier.nudges() if p.kind == "thread"]
    assert len(thread) == len(set(thread))
    # Per ticket within 2 h: first response at 50%, 80% and breach (resolution is 8 h).
    assert sorted(t.split("*")[1] for t in thread) == ["SLA-1"] * 3 + ["SLA-2"] * 3


def test_two_replicas_running_at_the_same_time_send_each_nudge_once(world):
    for n in range(6):
        world.open(f"ticket {n}")
    world.clock.set(MONDAY_10 + timedelta(minutes=30))
    barrier = threading.Barrier(2)
    errors = []

    def replica(holder):
        try:
            barrier.wait()
            run_cycle(world.deps, scheduler_options(holder))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    keys = sorted(p.text.split("*")[1] for p in world.notifier.nudges())
    assert keys == [f"SLA-{n}" for n in range(1, 7)]


def test_a_retry_never_lands_after_a_more_severe_nudge(world):
    world.options = scheduler_options(
        "replica-a", backoff=timedelta(minutes=20), max_backoff=timedelta(hours=1)
    )
    key = world.open()
    world.notifier.fail_next(CHANNEL, slack_error("internal_error"))
    assert world.at(MONDAY_10 + timedelta(minutes=30)) == MONDAY_10 + timedelta(minutes=48)
    world.at(MONDAY_10 + timedelta(minutes=48))  # 80% goes out; the 50% retry waits to 10:50
    world.at(MONDAY_10 + timedelta(minutes=50))
    assert ["80% of the 1h target" in p.text for p in world.notifier.nudges()] == [True]
    states = {r.threshold: (r.state, r.last_error) for r in world.nudge_rows(key)}
    assert states[0.5] == (NudgeState.CANCELLED, "superseded by a more severe nudge already sent")


# --------------------------------------------------------------------- digest jobs


def test_digest_slot_is_sent_by_one_of_two_schedulers_sharing_the_database(world):
    from bot.scheduler import DigestJobs, digest_slots, new_background_scheduler, slot_acquirer
    from storage.repositories import digests as digest_repo

    with world.uow() as session:
        sub = digest_repo.add_digest_subscription(
            session=session,
            workspace_id=world.workspace_id,
            tz="Europe/Berlin",
            target_user_id=MANAGER,
            weekday=0,
            time_of_day="09:00",
        )
        sub_id = sub.id
    slots = digest_slots(world.deps)
    assert [(s.subscription_id, s.cron, s.tz) for s in slots] == [
        (sub_id, "0 9 * * mon", "Europe/Berlin")
    ]
    sent = []
    replicas = [
        DigestJobs(
            new_background_scheduler(),
            acquire_slot=slot_acquirer(world.deps, holder),
            send=lambda sid, start: sent.append((sid, start)),
        )
        for holder in ("replica-a", "replica-b")
    ]
    monday_nine_berlin = datetime(2026, 11, 23, 8, 0, 2, tzinfo=UTC)
    assert sorted(r.run_slot(slots[0], now=monday_nine_berlin) for r in replicas) == [False, True]
    assert sent == [(sub_id, datetime(2026, 11, 23, 8, 0, tzinfo=UTC))]


def test_a_ticket_that_cannot_be_planned_does_not_hold_up_the_others(world, caplog):
    from sqlalchemy import update

    from storage.models import PolicyRow, Ticket

    with world.uow() as session:
        workspace_repo.track_channel(
            session=session, workspace_id=world.workspace_id, channel_id="CBROKEN"
        )
        workspace_repo.save_policy(
            session=session,
            workspace_id=world.workspace_id,
            policy=always_policy(),
            channel_id="CBROKEN",
        )
    ts = f"{int(MONDAY_10.timestamp())}.999999"
    broken = intake.open_ticket(
        world.deps,
        team_id=TEAM,
        channel_id="CBROKEN",
        message_ts=ts,
        user_id=REQUESTER,
        text="x",
        source="message",
        priority=Priority.P2,
    ).ticket
    with world.uow() as session:  # an admin's hand edit went wrong
        session.execute(
            update(PolicyRow).where(PolicyRow.name == "channel:CBROKEN").values(spec={"bad": 1})
        )
    world.open()
    world.at(MONDAY_10 + timedelta(minutes=30))
    assert [p.text.split("*")[1] for p in world.notifier.nudges()] == ["SLA-2"]
    assert any(getattr(r, "event", None) == "planning failed" for r in caplog.records)
    with world.uow() as session:
        row = session.get(Ticket, broken.id)
        assert (row.next_due_at, row.claimed_by) == (MONDAY_10 + timedelta(minutes=35), None)


# --------------------------------------------------------------------- the ticket card


def card_due_text(blocks: list[dict[str, Any]]) -> str:
    """The due fields of a rendered ticket card, as one string."""
    return " | ".join(
        f["text"] for block in blocks if block.get("type") == "section"
        for f in block.get("fields") or ()
    )


def card_ts_of(world: World, key: str) -> str:
    with world.uow() as session:
        ticket = ticket_repo.get_ticket_by_key(
            session=session, workspace_id=world.workspace_id, key=key
        )
        return ticket.card_ts


def test_each_thread_nudge_refreshes_the_ticket_card_so_it_never_says_due_in_1h_after_a_breach(
    world,
):
    key = world.open()  # P2: first response 1h
    card_ts = card_ts_of(world, key)
    world.at(MONDAY_10 + timedelta(minutes=30))
    [(ts, text, blocks)] = world.notifier.updates
    assert (ts, text) == (card_ts, f"{key} · P2 · Open")
    assert "*First response*\nin 30 min, 11:00 UTC" in card_due_text(blocks)
    world.at(MONDAY_10 + timedelta(hours=1, minutes=5))  # the breach, five minutes late
    ts, text, blocks = world.notifier.updates[-1]
    assert (ts, text) == (card_ts, f"{key} · P2 · Open · SLA breached")
    assert "*First response*\n:rotating_light: overdue by 5 min (was due 11:00 UTC)" in (
        card_due_text(blocks)
    )


def test_a_nudge_without_a_thread_reply_leaves_the_card_alone(engine, uow):
    # Only the escalation channel hears this policy's 50%: the thread and its card do not move.
    policy = always_policy()
    policy = Policy(
        calendar=policy.calendar,
        targets=policy.targets,
        nudges=(NudgeRule(0.5, frozenset({Audience.ESCALATION_CHANNEL})),),
    )
    world = World(engine, uow, policy)
    world.open()
    world.at(MONDAY_10 + timedelta(minutes=30))
    assert [(p.kind, p.target) for p in world.notifier.nudges()] == [
        ("channel", ESCALATION_CHANNEL)
    ]
    assert world.notifier.updates == []


def test_a_failed_card_update_never_fails_or_retries_the_nudge(world, caplog):
    key = world.open()
    world.notifier.update_errors.append(slack_error("message_not_found"))
    next_wake = world.at(MONDAY_10 + timedelta(minutes=30))
    assert len(world.notifier.nudges()) == 1
    [row] = world.nudge_rows(key)
    assert (row.state, row.attempts, row.last_error) == (NudgeState.SENT, 1, None)
    assert next_wake == MONDAY_10 + timedelta(minutes=48)  # the 80%, not a retry
    assert world.notifier.updates == []
    # The redraw is an outbox write of its own: given up there, with Slack's reason.
    with world.uow() as session:
        redraw = session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "card_update")).one()
        assert (redraw.state, redraw.last_error) == ("failed", "message_not_found")
