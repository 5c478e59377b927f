"""Exactly once across processes: `slabot run` killed with SIGKILL and restarted, and two bot
processes sharing one database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set):
for nudges, and for events (inbox) and the cards they imply (outbox).

Each bot is a real `python -m bot.cli run` subprocess on the wall clock, talking to the fake
Slack over HTTP; tickets come in as signed Slack events. Targets are a few seconds long, so
these are the tests that let real time pass (marked slow). Before counting what reached Slack,
a test stops the bots with SIGTERM (deliveries in flight finish): nothing can arrive later.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from commands.deps import SystemClock
from storage.db import unit_of_work
from storage.models import (
    InboxItem,
    InboxState,
    Nudge,
    NudgeState,
    OutboxMessage,
    OutboxState,
    Ticket,
)
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, SlackSender
from tests.e2e.test_nudges import configure, nudge_messages, seconds_policy
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """One `slabot run` subprocess."""

    def __init__(self, db_url: str, fake, instance: str, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": db_url,
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            "SLABOT_INSTANCE_ID": instance,
        }
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> BotProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._healthy, "the bot to become healthy", timeout)
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"bot exited: {self.log_path.read_text()[-2000:]}")
        try:
            with urlopen(self.url + "/healthz", timeout=1) as response:
                return bool(json.loads(response.read()).get("scheduler", {}).get("running"))
        except (URLError, ConnectionError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, like a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, as a deploy does: deliveries in flight finish before the exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def processes(tmp_path):
    started: list[BotProcess] = []
    yield started
    for bot in started:
        bot.stop()


def open_tickets(sender: SlackSender, count: int, gap: float) -> None:
    """`count` tickets `gap` seconds apart on the wall clock, so their thresholds interleave."""
    for n in range(count):
        result = sender.message(f"incident {n}: checkout fails")[1]
        assert result.status == 200
        time.sleep(gap)


def outbox_rows(engine) -> list[Nudge]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(Nudge).order_by(Nudge.ticket_id, Nudge.planned_at)))


def wait_settled(engine, tickets: int, timeout: float) -> list[Nudge]:
    """Until every ticket's breach is sent and nothing is pending or being sent."""

    def settled() -> list[Nudge]:
        rows = outbox_rows(engine)
        breaches = [r for r in rows if r.threshold == 1.0 and r.state == NudgeState.SENT]
        busy = [r for r in rows if r.state in (NudgeState.PENDING, NudgeState.SENDING)]
        return rows if len(breaches) == tickets and not busy else []

    return wait_until(settled, f"{tickets} breaches sent and nothing busy", timeout)


def stop_all(bots: list[BotProcess]) -> None:
    """SIGTERM every bot and wait for it: what they were sending is sent, nothing more comes."""
    for bot in bots:
        bot.stop()


def assert_each_nudge_once(fake, rows: list[Nudge], tickets: int) -> None:
    posted = Counter(marker for marker, _channel, _text in nudge_messages(fake))
    assert posted, "no nudge reached Slack"
    doubled = {m: n for m, n in posted.items() if n > 1}
    assert doubled == {}, f"nudges posted twice: {doubled}"
    sent_ids = {r.id for r in rows if r.state == NudgeState.SENT}
    posted_ids = {int(marker.split(":")[1]) for marker in posted}
    assert posted_ids == sent_ids  # nothing sent without a post, nothing posted unsent
    # Per ticket: the breach reached the thread, the escalation channel and the manager.
    breaches = [r for r in rows if r.threshold == 1.0]
    assert len(breaches) == tickets
    assert all(len(r.delivered or []) == 3 for r in breaches)
    assert {r.state for r in rows} <= {NudgeState.SENT, NudgeState.SKIPPED, NudgeState.CANCELLED}
    # Cancelled only because something more severe went out first (after the downtime).
    assert all(
        r.last_error.startswith("superseded") for r in rows if r.state == NudgeState.CANCELLED
    )


def test_killed_and_restarted_bot_loses_and_doubles_nothing(
    db_url, engine, fake_slack, processes, tmp_path
):
    configure(SimpleNamespace(unit_of_work=lambda: unit_of_work(engine)), seconds_policy(6))
    bot = BotProcess(db_url, fake_slack, "replica-1", tmp_path / "bot.log").start()
    processes.append(bot)
    sender = SlackSender(bot.url, SIGNING_SECRET, fake_slack, SystemClock())
    tickets = 12
    open_tickets(sender, tickets, gap=0.4)  # 50% nudges start 3 s after the first one
    wait_until(lambda: len(nudge_messages(fake_slack)) >= 3, "the first nudges")
    bot.kill()  # in the middle of sending
    killed_with = len(nudge_messages(fake_slack))
    time.sleep(2.5)  # the wall clock runs on: thresholds pass while nobody is running
    bot.start()
    rows = wait_settled(engine, tickets, timeout=60)
    stop_all(processes)
    assert 0 < killed_with < len(nudge_messages(fake_slack))
    assert_each_nudge_once(fake_slack, outbox_rows(engine), tickets)
    with unit_of_work(engine) as session:
        assert len(list(session.exec(select(Ticket)))) == tickets
    assert any(r.late for r in rows if r.state == NudgeState.SENT) or any(
        r.state == NudgeState.SKIPPED for r in rows
    ), "the downtime should have made some nudges late or skipped"


def test_two_bot_processes_on_one_database_send_each_nudge_once(
    db_url, engine, fake_slack, processes, tmp_path
):
    configure(SimpleNamespace(unit_of_work=lambda: unit_of_work(engine)), seconds_policy(5))
    bots = [
        BotProcess(db_url, fake_slack, f"replica-{n}", tmp_path / f"bot{n}.log").start()
        for n in (1, 2)
    ]
    processes.extend(bots)
    # One sender, so event ids and message ts stay unique across both replicas.
    sender = SlackSender(bots[0].url, SIGNING_SECRET, fake_slack, SystemClock())
    tickets = 16
    for n in range(tickets):
        # Slack delivers each event to one of the replicas behind the load balancer.
        sender.url = bots[n % 2].url
        assert sender.message(f"request {n}", channel=CHANNEL)[1].status == 200
        time.sleep(0.15)  # spread on the wall clock: both replicas' nudges interleave
    rows = wait_settled(engine, tickets, timeout=60)
    stop_all(processes)
    assert_each_nudge_once(fake_slack, outbox_rows(engine), tickets)
    # Nobody was down: every threshold of every ticket went out, none skipped.
    assert Counter(r.threshold for r in rows if r.state == NudgeState.SENT) == {
        0.5: tickets,
        0.8: tickets,
        1.0: tickets,
    }


def track_support(engine) -> None:
    with unit_of_work(engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=CHANNEL)


def bot_posts_by_thread(fake) -> Counter:
    """How many bot messages each thread of the support channel holds."""
    with fake._lock:
        messages = list(fake.messages.items())
    return Counter(m.get("thread_ts") for (c, _), m in messages if c == CHANNEL and m.get("bot_id"))


def ticket_threads(engine) -> Counter:
    with unit_of_work(engine) as session:
        return Counter(t.thread_ts for t in session.exec(select(Ticket)))


def test_killed_mid_burst_of_200_requests_loses_and_doubles_no_ticket_or_card(
    db_url, engine, fake_slack, processes, tmp_path
):
    track_support(engine)
    bot = BotProcess(db_url, fake_slack, "replica-1", tmp_path / "bot.log").start()
    processes.append(bot)
    sender = SlackSender(bot.url, SIGNING_SECRET, fake_slack, SystemClock())
    requests = [(sender.next_ts(), f"EvBURST{n:04d}") for n in range(200)]
    acked: set[str] = set()
    killed = threading.Event()

    def deliver(request) -> None:
        ts, event_id = request
        try:
            status = sender.message(f"burst {event_id}", ts=ts, event_id=event_id)[1].status
        except OSError:  # the bot died under this request: Slack will deliver it again
            return
        if status == 200:
            acked.add(event_id)
            if len(acked) >= 60 and not killed.is_set():
                killed.set()
                bot.kill()  # SIGKILL mid-burst: no cleanup, no flush

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(deliver, requests))
    assert killed.is_set() and 60 <= len(acked) < 200
    bot.start()
    # Slack redelivers what got no 200; what did get one was stored before the answer.
    for ts, event_id in requests:
        if event_id not in acked:
            assert sender.message(f"burst {event_id}", ts=ts, event_id=event_id,
                                  retry_num=1)[1].status == 200
    threads = {ts for ts, _ in requests}
    wait_until(lambda: set(ticket_threads(engine)) == threads, "200 tickets", 60)
    wait_until(lambda: set(bot_posts_by_thread(fake_slack)) >= threads, "200 cards", 60)
    stop_all(processes)
    assert set(ticket_threads(engine).values()) == {1}
    assert bot_posts_by_thread(fake_slack) == Counter(dict.fromkeys(threads, 1))


def test_two_replicas_drain_one_inbox_and_outbox_each_event_and_card_once(
    db_url, engine, fake_slack, processes, tmp_path
):
    track_support(engine)
    bots = [BotProcess(db_url, fake_slack, f"replica-{n}", tmp_path / f"bot{n}.log").start()
            for n in (1, 2)]
    processes.extend(bots)
    sender = SlackSender(bots[0].url, SIGNING_SECRET, fake_slack, SystemClock())
    threads = set()
    for n in range(40):
        ts, event_id = sender.next_ts(), f"EvPAIR{n:03d}"
        threads.add(ts)
        # Slack's retry of a slow ack may land on the other replica: both store it once.
        for replica in (bots[n % 2], bots[(n + 1) % 2]):
            sender.url = replica.url
            assert sender.message(f"request {n}", ts=ts, event_id=event_id,
                                  retry_num=None if replica is bots[n % 2] else 1
                                  )[1].status == 200
    wait_until(lambda: set(bot_posts_by_thread(fake_slack)) >= threads, "40 cards", 60)
    stop_all(processes)  # a card is in Slack a moment before its outbox row says so
    assert ticket_threads(engine) == Counter(dict.fromkeys(threads, 1))
    assert bot_posts_by_thread(fake_slack) == Counter(dict.fromkeys(threads, 1))
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(InboxItem)))
        assert len(rows) == 40 and {r.state for r in rows} == {InboxState.DONE}
        writes = list(session.exec(select(OutboxMessage)))
        assert {w.state for w in writes} == {OutboxState.SENT}
        assert len({w.key for w in writes}) == len(writes) == 40
