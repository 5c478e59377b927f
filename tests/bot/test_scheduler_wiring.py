"""The dispatcher's wake-ups and the digest jobs, on a real APScheduler with injected work.

These tests wait on conditions the scheduler threads bring about; no SLA is ever waited out.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.date import DateTrigger

from bot.scheduler import (
    DigestJobs,
    DigestSlot,
    Dispatcher,
    digest_trigger,
    latest_fire_at_or_before,
    new_background_scheduler,
)
from tests.closing import running_fake_slack
from tests.waits import wait_until


@pytest.fixture
def scheduler():
    sched = new_background_scheduler()
    sched.start()
    yield sched
    if sched.running:
        sched.shutdown(wait=True)


class RecordingCycle:
    """A cycle function that records its runs and returns what the test tells it to."""

    def __init__(self, hold: threading.Event | None = None):
        self.runs: list[datetime] = []
        self.next_at: datetime | None = None
        self.hold = hold
        self.ran = threading.Event()
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            if self.hold is not None:
                self.hold.wait(5)
            self.runs.append(datetime.now(UTC))
            self.ran.set()
            return self.next_at
        finally:
            with self._lock:
                self.concurrent -= 1


def test_dispatcher_runs_at_start_so_overdue_work_goes_out_first(scheduler):
    cycle = RecordingCycle()
    Dispatcher(scheduler, cycle).start()
    assert cycle.ran.wait(5)


def test_dispatcher_runs_again_at_the_instant_the_cycle_asks_for(scheduler):
    runs, asked, woken_for = [], [], []

    def cycle():
        runs.append(datetime.now(UTC))
        woken_for.append(dispatcher.state().next_wake_at)  # the wake-up that started this run
        if len(runs) == 1:
            asked.append(datetime.now(UTC) + timedelta(milliseconds=300))
            return asked[0]
        return None

    dispatcher = Dispatcher(scheduler, cycle, sweep_every=timedelta(hours=1))
    dispatcher.start()
    wait_until(lambda: len(runs) >= 2, "the run that was asked for")
    assert runs[1] >= asked[0]
    assert woken_for[1] == asked[0]  # its own wake-up, not a sweep (an hour away)


def test_wake_runs_a_cycle_now(scheduler):
    cycle = RecordingCycle()
    dispatcher = Dispatcher(scheduler, cycle, sweep_every=timedelta(hours=1))
    dispatcher.start()
    wait_until(lambda: len(cycle.runs) == 1, "the first run")
    dispatcher.wake()
    wait_until(lambda: len(cycle.runs) == 2, "the run the wake-up started")
    assert dispatcher.state().cycles == 2


def test_wake_during_a_cycle_makes_it_run_once_more_and_never_concurrently(scheduler):
    hold = threading.Event()
    cycle = RecordingCycle(hold=hold)
    dispatcher = Dispatcher(scheduler, cycle, sweep_every=timedelta(hours=1))
    dispatcher.start()
    wait_until(lambda: cycle.concurrent == 1, "the first run")
    for _ in range(5):
        dispatcher.wake()
    hold.set()
    wait_until(lambda: len(cycle.runs) == 2, "the second run")
    scheduler.shutdown(wait=True)  # the run in progress, if any, is over
    assert len(cycle.runs) == 2
    # ...and no third is coming: no wake-up is pending, only the hourly sweep.
    assert not [job for job in scheduler.get_jobs() if isinstance(job.trigger, DateTrigger)]
    assert cycle.max_concurrent == 1


def test_a_failing_cycle_is_reported_and_the_dispatcher_keeps_going(scheduler):
    calls = []

    def cycle():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return None

    dispatcher = Dispatcher(scheduler, cycle, sweep_every=timedelta(hours=1))
    dispatcher.start()
    wait_until(lambda: dispatcher.state().cycles == 1, "the failing run")
    assert dispatcher.state().last_error == "RuntimeError: database is locked"
    dispatcher.wake()
    wait_until(lambda: dispatcher.state().cycles == 2, "the run after it")
    assert dispatcher.state().last_error is None


def test_sweep_runs_the_cycle_even_without_wake_ups(scheduler):
    cycle = RecordingCycle()
    Dispatcher(scheduler, cycle, sweep_every=timedelta(milliseconds=50)).start()
    wait_until(lambda: len(cycle.runs) >= 3, "three sweeps")


# --- digest jobs ---------------------------------------------------------------------------


def test_digest_slot_is_monday_nine_local_across_a_dst_change():
    trigger = digest_trigger(DigestSlot(1, "0 9 * * mon", "Europe/Berlin"))
    # Berlin leaves summer time on Sunday 25 Oct 2026: 09:00 is 07:00 UTC before, 08:00 after.
    before = latest_fire_at_or_before(trigger, datetime(2026, 10, 21, 12, tzinfo=UTC))
    after = latest_fire_at_or_before(trigger, datetime(2026, 10, 28, 12, tzinfo=UTC))
    assert before == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    assert after == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_digest_run_at_the_exact_fire_instant_belongs_to_that_slot():
    trigger = digest_trigger(DigestSlot(1, "0 9 * * mon", "UTC"))
    fire = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert latest_fire_at_or_before(trigger, fire) == fire
    assert latest_fire_at_or_before(trigger, fire - timedelta(seconds=1)) == fire - timedelta(
        days=7
    )


class SlotLeases:
    """Stands in for the database's insert-once lease table (shared by two 'replicas')."""

    def __init__(self):
        self.taken: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def acquire(self, name, slot):
        with self._lock:
            if (name, slot) in self.taken:
                return False
            self.taken.add((name, slot))
            return True


def test_two_replicas_send_each_digest_slot_once():
    leases = SlotLeases()
    sent = []
    slot = DigestSlot(7, "0 9 * * mon", "America/New_York")
    replicas = [
        DigestJobs(
            new_background_scheduler(),
            acquire_slot=leases.acquire,
            send=lambda sid, start: sent.append((sid, start)),
        )
        for _ in range(2)
    ]
    monday = datetime(2026, 11, 23, 14, 0, 3, tzinfo=UTC)  # 09:00:03 in New York
    results = [r.run_slot(slot, now=monday) for r in replicas]
    assert sorted(results) == [False, True]
    assert sent == [(7, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))]
    # The next week's slot is a new slot.
    replicas[1].run_slot(slot, now=monday + timedelta(days=7))
    assert len(sent) == 2


def test_digest_jobs_follow_the_subscription_list(scheduler):
    jobs = DigestJobs(scheduler, acquire_slot=lambda n, s: True, send=lambda sid, start: None)
    jobs.sync([DigestSlot(1, "0 9 * * mon", "UTC"), DigestSlot(2, "30 8 * * fri", "Asia/Tokyo")])
    assert jobs.job_ids() == ["digest:1", "digest:2"]
    jobs.sync([DigestSlot(2, "0 10 * * fri", "Asia/Tokyo")])
    assert jobs.job_ids() == ["digest:2"]
    job = scheduler.get_job("digest:2")
    fire = job.next_run_time.astimezone(UTC)
    assert (fire.hour, fire.minute, fire.weekday()) == (1, 0, 4)  # 10:00 Tokyo is 01:00 UTC


def test_digest_job_fires_through_apscheduler_and_sends(scheduler):
    sent = threading.Event()
    got = []

    def send(sid, start):
        got.append((sid, start))
        sent.set()

    jobs = DigestJobs(scheduler, acquire_slot=lambda n, s: True, send=send)
    jobs.sync([DigestSlot(3, "* * * * *", "UTC")])
    scheduler.get_job("digest:3").modify(next_run_time=datetime.now(UTC))
    assert sent.wait(5)
    sid, start = got[0]
    assert sid == 3
    assert start.second == 0 and start <= datetime.now(UTC)


# --- settings ------------------------------------------------------------------------------


def test_scheduler_settings_come_from_the_environment():
    from bot.scheduler import SchedulerOptions

    options = SchedulerOptions.from_env(
        {
            "SLABOT_INSTANCE_ID": "replica-7",
            "SLABOT_SCHEDULER_SWEEP_SECONDS": "5",
            "SLABOT_NUDGE_LEASE_SECONDS": "45",
        }
    )
    assert (options.holder, options.sweep_every, options.send.holder, options.send.lease) == (
        "replica-7",
        timedelta(seconds=5),
        "replica-7",
        timedelta(seconds=45),
    )


def test_without_an_instance_id_each_process_gets_its_own():
    from bot.scheduler import SchedulerOptions

    first, second = SchedulerOptions.from_env({}), SchedulerOptions.from_env({})
    assert first.holder != second.holder
    assert first.sweep_every == timedelta(seconds=30)


def test_a_sweep_that_is_not_a_number_is_named_in_the_error():
    from bot.scheduler import SchedulerConfigError, SchedulerOptions

    with pytest.raises(SchedulerConfigError, match="SLABOT_SCHEDULER_SWEEP_SECONDS must be a"):
        SchedulerOptions.from_env({"SLABOT_SCHEDULER_SWEEP_SECONDS": "soon"})


@pytest.mark.slow  # a real `slabot run` process
def test_slabot_run_with_a_bad_scheduler_setting_names_it_in_one_line_and_exits_2(tmp_path):
    """`slabot run` with SLABOT_SCHEDULER_SWEEP_SECONDS=soon: one line, no traceback, exit 2."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from bot.cli import EXIT_CONFIG

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    with running_fake_slack(token="xoxb-given") as fake:
        env = {
            "PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "SLACK_BOT_TOKEN": "xoxb-given",
            "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "PORT": str(port),
            "LOG_LEVEL": "WARNING", "SLABOT_SCHEDULER_SWEEP_SECONDS": "soon",
        }
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
             "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == EXIT_CONFIG
    assert "Traceback" not in result.stderr
    # Bolt may log a warning of its own first; ours is the one and last line from slabot.
    [line] = [text for text in result.stderr.splitlines() if text.startswith("slabot:")]
    assert result.stderr.strip().endswith(line)
    assert line == (
        "slabot: cannot start: SLABOT_SCHEDULER_SWEEP_SECONDS must be a positive number "
        "of seconds, got 'soon'"
    )
