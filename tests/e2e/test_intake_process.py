"""Intake in a child process (commands/intake_process.py): the same tickets and cards.

The bot runs as in the other end-to-end tests (real HTTP, signed requests, the fake Slack),
with its intake handed to a real child process that writes to the same database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from commands import lifecycle
from commands.intake_process import IntakeProcess
from commands.lifecycle import IntakeRequest
from tests.e2e.conftest import CHANNEL, REQUESTER
from tests.e2e.test_intake import OTHER_CHANNEL, cards, tickets, track
from tests.e2e.test_intake_batch import swap_batcher
from tests.fakes.slack_api import TEAM_ID

ROOT = Path(__file__).resolve().parents[2]


def use_child(bot, **kw) -> tuple[IntakeProcess, list]:
    wakes: list = []
    intake = IntakeProcess(
        bot.settings, fallback=lambda request: lifecycle.open_request(bot.deps, request),
        wake_scheduler=wakes.append, **kw,
    )
    swap_batcher(bot, intake)
    return intake, wakes


def request(n: int, channel: str = CHANNEL) -> IntakeRequest:
    return IntakeRequest(team_id=TEAM_ID, channel_id=channel, message_ts=f"1795428000.{n:06d}",
                         user_id=REQUESTER, text=f"printer {n} is on fire", source="message",
                         only_if_tracked=True)


def child_pid(intake: IntakeProcess) -> int:
    return intake._process.pid


def test_messages_become_one_ticket_and_one_card_each_through_the_child(bot):
    track(bot)
    intake, wakes = use_child(bot)
    parent = os.getpid()
    sent = [bot.slack.message(f"checkout is down ({n})", event_id=f"Ev{n:03d}")[0]
            for n in range(25)]
    bot.slack.message("checkout is down (3)", ts=sent[3], event_id="Ev003", retry_num=1)
    bot.slack.message("lunch?", channel=OTHER_CHANNEL)
    bot.settle()

    assert child_pid(intake) != parent
    rows = tickets(bot)
    assert sorted(t.message_ts for t in rows) == sorted(sent)
    assert sorted(t.number for t in rows) == list(range(1, 26))
    assert sorted(c.params["thread_ts"] for c in cards(bot)) == sorted(sent)
    assert all(t.card_ts for t in rows), "every card's ts is stored"
    # The scheduler in this process heard about the new tickets' first look.
    assert wakes and all(at is not None for at in wakes)
    assert intake.backlog == 0


def test_stop_finishes_everything_submitted_then_the_listener_opens_tickets_itself(bot):
    track(bot)
    intake, _ = use_child(bot)
    for n in range(40):
        intake.submit(request(n))
    intake.stop()

    assert len(tickets(bot)) == 40
    assert len(cards(bot)) == 40
    assert all(t.card_ts for t in tickets(bot))
    assert intake._process is None
    assert intake.health()["ok"] is False  # stopped: it takes no requests any more
    intake.submit(request(99))  # after stop: opened here, at once
    assert len(tickets(bot)) == 41


def test_a_killed_child_is_replaced_its_pipe_handed_on_and_catch_up_run(bot):
    track(bot)
    restarted = threading.Event()
    intake, _ = use_child(bot, on_restart=restarted.set)
    intake.submit(request(1))
    assert intake.wait_idle(20)
    first = child_pid(intake)

    os.kill(first, signal.SIGKILL)
    assert restarted.wait(20), "no new child after the first was killed"
    assert child_pid(intake) != first
    health = intake.health()
    assert health["ok"] is True
    assert health["intake"]["restarts"] == 1 and health["intake"]["pid"] == child_pid(intake)
    for n in range(2, 12):
        intake.submit(request(n))
    assert intake.wait_idle(20), f"{intake.backlog} requests left"
    assert len(tickets(bot)) == 11
    assert any("exited with code -9" in r.getMessage() for r in bot.error_log.records)
    bot.error_log.records.clear()  # the death was logged as an error, as it should be


def test_sigterm_to_the_child_finishes_its_work_and_a_new_child_takes_over(bot):
    track(bot)
    restarted = threading.Event()
    intake, _ = use_child(bot, on_restart=restarted.set)
    intake.submit(request(0))
    assert intake.wait_idle(20)  # the child is up (its SIGTERM handler in place)
    for n in range(1, 30):
        intake.submit(request(n))
    first = child_pid(intake)
    os.kill(first, signal.SIGTERM)  # while it holds some of them

    assert restarted.wait(20), "no new child after the first one was terminated"
    assert child_pid(intake) != first
    intake.submit(request(30))
    assert intake.wait_idle(20), f"{intake.backlog} requests left"
    assert len(tickets(bot)) == 31  # nothing the first child held was lost
    assert all(t.card_ts for t in tickets(bot))
    assert any("exited with code 0" in r.getMessage() for r in bot.error_log.records)
    bot.error_log.records.clear()


def test_the_child_finishes_and_exits_when_its_parent_is_killed(bot, tmp_path):
    track(bot)
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from commands.intake_process import IntakeProcess
        from tests.e2e.test_intake_process import request
        import pickle
        settings = pickle.loads(bytes.fromhex({_pickled(bot.settings)!r}))
        intake = IntakeProcess(settings, fallback=print).start()
        for n in range(20):
            intake.submit(request(n))
        assert intake.wait_idle(30)
        print(intake._process.pid, flush=True)
        os.kill(os.getpid(), 9)
    """)
    parent = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    orphan = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 15
    while _alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(orphan), "the intake process outlived its parent"
    assert len(tickets(bot)) == 20


def _pickled(value) -> str:
    import pickle

    return pickle.dumps(value).hex()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:  # an exited orphan may linger as a zombie
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
