"""`Dispatcher`: one loop of work on APScheduler, run when it asks, when woken, and on a sweep.

`cycle()` does one round of work and returns the next instant it wants to run at (or None:
only the sweep and wake-ups will run it again). Cycles of one dispatcher never overlap: a
wake during a cycle makes that cycle run again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(seconds=30)
_MIN_SPACING = timedelta(milliseconds=50)


def utcnow() -> datetime:
    """The wall clock, which APScheduler runs on (the bot's own clock may be a test's)."""
    return datetime.now(UTC)


def new_background_scheduler() -> BackgroundScheduler:
    """A BackgroundScheduler in UTC with a small thread pool (cycles are short and serialised)."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={"default": {"type": "threadpool", "max_workers": 4}},
        job_defaults={"coalesce": True},
    )


@dataclass(frozen=True)
class DispatcherState:
    """What /healthz reports about the dispatcher."""

    running: bool
    cycles: int
    last_cycle_at: datetime | None
    last_error: str | None
    next_wake_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The state as /healthz shows it."""
        return {
            "cycles": self.cycles,
            "last_cycle_at": self.last_cycle_at.isoformat() if self.last_cycle_at else None,
            "next_wake_at": self.next_wake_at.isoformat() if self.next_wake_at else None,
            "last_error": self.last_error,
        }


class Dispatcher:
    """Runs `cycle()` when it asks to, when woken, and on a sweep; never two cycles at once."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        cycle: Callable[[], datetime | None],
        *,
        sweep_every: timedelta = SWEEP_EVERY,
        now: Callable[[], datetime] = utcnow,
        name: str = "sla-dispatch",
    ) -> None:
        self._scheduler = scheduler
        self._cycle = cycle
        self._wake_job = f"{name}-wake"
        self._sweep_job = f"{name}-sweep"
        self._sweep_every = sweep_every
        self._now = now
        self._lock = threading.Lock()
        self._busy = False
        self._again = False
        self._cycles = 0
        self._last_cycle_at: datetime | None = None
        self._last_error: str | None = None
        self._next_wake_at: datetime | None = None
        self._started = False

    def start(self) -> None:
        """Register the sweep (first run at once: overdue work after downtime goes out first)."""
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self._sweep_every.total_seconds(),
            id=self._sweep_job,
            replace_existing=True,
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=4,
            misfire_grace_time=None,
        )
        self._started = True

    def wake(self, at: datetime | None = None) -> None:
        """Run a cycle now, e.g. because a ticket changed and its deadlines moved.

        With `at` (the changed ticket's next look), nothing happens when a cycle is already
        due by then or a sweep comes first: each sweep schedules the looks within its period.
        """
        if not self._started:
            return
        with self._lock:
            if at is not None and at - self._now() > self._sweep_every:
                return
            if at is not None and not self._busy and (
                self._next_wake_at is not None and self._next_wake_at <= at
            ):
                return
            if self._busy:
                # The running cycle goes round once more; no second thread needed.
                self._again = True
                return
            self._schedule_wake(self._now() if at is None else max(at, self._now()))

    def state(self) -> DispatcherState:
        """A snapshot for health checks."""
        with self._lock:
            return DispatcherState(
                running=self._started and self._scheduler.running,
                cycles=self._cycles,
                last_cycle_at=self._last_cycle_at,
                last_error=self._last_error,
                next_wake_at=self._next_wake_at,
            )

    def _schedule_wake(self, at: datetime) -> None:
        # Called with self._lock held, so a wake-up and a cycle's own rescheduling never race.
        # `at` is on the bot's clock; APScheduler runs on the wall clock: keep the distance.
        self._next_wake_at = at
        run_date = utcnow() + max(at - self._now(), timedelta(0))
        self._scheduler.add_job(
            self._run,
            "date",
            run_date=run_date,
            id=self._wake_job,
            replace_existing=True,
            max_instances=4,
            misfire_grace_time=None,
        )

    def _run(self) -> None:
        with self._lock:
            if self._busy:
                self._again = True
                return
            self._busy = True
        try:
            while True:
                with self._lock:
                    self._again = False
                next_at = self._one_cycle()
                with self._lock:
                    if self._again:
                        continue
                    self._busy = False
                    now = self._now()
                    if next_at is not None and next_at - now < self._sweep_every:
                        # A floor on the spacing keeps a cycle that asks for "now" from spinning.
                        self._schedule_wake(max(next_at, now + _MIN_SPACING))
                    else:
                        self._next_wake_at = None
                    break
        finally:
            with self._lock:
                self._busy = False

    def _one_cycle(self) -> datetime | None:
        try:
            next_at = self._cycle()
            error = None
        except Exception as exc:  # a failing cycle must not stop the scheduler; the sweep retries
            log.exception("dispatcher cycle failed")
            error = f"{type(exc).__name__}: {exc}"
            next_at = None
        with self._lock:
            self._cycles += 1
            self._last_cycle_at = self._now()
            self._last_error = error
        return next_at
