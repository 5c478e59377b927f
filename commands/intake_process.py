"""Intake in a process of its own: the web process acks, a child writes tickets and posts cards.

`IntakeBatcher` in the web process shares one GIL with uvicorn, Starlette and Bolt, and
writing a ticket and posting its card costs more CPU than receiving the event did: during a
burst the acks queue behind the writer. `IntakeProcess` runs the same `IntakeBatcher` in a
child process (`multiprocessing`, spawn), so the web process only pickles each request onto
a pipe and the two halves use two cores. It has the batcher's interface (`submit`, `stop`,
`wait_idle`, `backlog`); the child sends back what the parent needs: how many requests are
finished, and when the scheduler must look at the new tickets.

Failures:
- The child dies (killed, out of memory): the parent starts another, hands it what was still
  in the pipe and calls `on_restart` (`slabot run` runs the catch-up there, which re-reads
  the tracked channels' recent history, so the requests the dead child held become tickets;
  duplicates are settled by the message's unique key).
- The parent dies (kill -9): the child sees its parent's sentinel close, finishes what it
  holds (tickets and cards) and exits; the next start's catch-up finds the rest.
- Ctrl-C reaches the whole process group: the child ignores SIGINT and is drained by the
  parent's `stop()` like everything else. SIGTERM to the child (systemd stops a service's
  whole group) makes it finish what it holds and exit; a parent still running replaces it.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import wait
from typing import Any

from commands.intake import IntakeBatcher, PendingRequests
from commands.lifecycle import IntakeRequest

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")  # fork would copy threads and open connections
_POLL_SECONDS = 0.5
_RESTART_DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)  # after each quick death in a row
_STEADY_SECONDS = 60.0  # a child that lived this long resets the delays


class IntakeProcess(PendingRequests):
    """`IntakeBatcher` in a child process; see the module docstring."""

    def __init__(
        self,
        settings: Any,
        *,
        fallback: Callable[[IntakeRequest], None],
        wake_scheduler: Callable[[datetime | None], None] | None = None,
        on_restart: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self._fallback = fallback  # opens a request here when no child takes it (stopped)
        self._wake = wake_scheduler
        self._on_restart = on_restart
        self._cond = threading.Condition()
        self._pending = 0
        self._stopping = False
        self._process: Any = None
        self._requests: Any = None
        self._results: Any = None
        self._reader: threading.Thread | None = None
        self._deaths = 0
        self._restarts = 0
        self._started_at = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> IntakeProcess:
        """Start the child and the thread that reads its reports (idempotent)."""
        with self._cond:
            if self._process is None:
                self._stopping = False
                self._spawn()
                self._reader = threading.Thread(target=self._read, name="intake-reports",
                                                daemon=True)
                self._reader.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Let the child finish what it was given (tickets stored, cards posted), then end it."""
        with self._cond:
            self._stopping = True
            process, reader = self._process, self._reader
            if process is not None:
                self._requests.put(None)
        if process is None:
            return
        process.join(timeout)
        if process.is_alive():
            log.error("intake process still busy after %s s; %d requests left; stopping it",
                      timeout, self.backlog)
            process.terminate()
            process.join(5)
        if reader is not None:
            reader.join(timeout)
        with self._cond:
            # Dropped, not only closed: their semaphores are released when they are collected,
            # and multiprocessing's resource tracker warns at exit about any still alive.
            for pipe in (self._requests, self._results):
                pipe.close()
                pipe.join_thread()
            self._process = self._reader = self._requests = self._results = None
            self._cond.notify_all()
        log.info("intake process %s stopped (exit code %s)", process.pid, process.exitcode)

    def submit(self, request: IntakeRequest) -> None:
        """Queue a request for the child; the caller (a Bolt listener) returns at once."""
        with self._cond:
            running = self._process is not None and not self._stopping
            if running:
                self._pending += 1
                self._requests.put(request)
        if not running:
            self._fallback(request)

    def health(self) -> dict[str, Any]:
        """Intake's part of /healthz: the child's pid, whether it is alive, and restarts."""
        with self._cond:
            process, backlog, restarts = self._process, self._pending, self._restarts
        alive = process is not None and process.is_alive()
        return {"ok": alive, "intake": {
            "mode": "process", "pid": process.pid if process is not None else None,
            "alive": alive, "backlog": backlog, "restarts": restarts,
        }}

    # ------------------------------------------------------------------ the parent's side
    def _spawn(self) -> None:
        self._requests, self._results = _CONTEXT.Queue(), _CONTEXT.Queue()
        self._process = _CONTEXT.Process(
            target=child_main, args=(self.settings, self._requests, self._results),
            name="slabot-intake", daemon=True,
        )
        self._process.start()
        self._started_at = time.monotonic()
        log.info("intake process %s started", self._process.pid)

    def _read(self) -> None:
        """Apply the child's reports; start a new child when one dies unasked."""
        while True:
            with self._cond:
                process, results = self._process, self._results
            if process is None:  # stopped
                return
            try:
                message = results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if process.is_alive():
                    continue
                with self._cond:
                    if self._stopping:
                        self._pending = 0
                        self._cond.notify_all()
                        return
                self._replace(process)
                continue
            kind = message[0]
            if kind == "done":
                with self._cond:
                    self._pending -= message[1]
                    self._cond.notify_all()
            elif kind == "wake" and self._wake is not None:
                try:
                    self._wake(message[1])
                except Exception:  # the scheduler's safety sweep finds the tickets anyway
                    log.exception("could not wake the scheduler for new tickets")
            elif kind == "stopped":
                with self._cond:
                    if self._stopping:
                        return
                process.join(_POLL_SECONDS * 10)  # it finished unasked (SIGTERM): replace it
                self._replace(process)

    def _replace(self, dead: Any) -> None:
        """A new child for a dead one: it gets what was still in the pipe, then catch-up runs."""
        lived = time.monotonic() - self._started_at
        self._deaths = 0 if lived > _STEADY_SECONDS else self._deaths + 1
        delay = _RESTART_DELAYS[min(self._deaths, len(_RESTART_DELAYS) - 1)]
        log.error("intake process %s exited with code %s after %.0f s; starting another in %.0f s",
                  dead.pid, dead.exitcode, lived, delay)
        time.sleep(delay)
        with self._cond:
            if self._stopping:
                self._pending = 0
                self._cond.notify_all()
                return
            leftover, old_results = self._requests, self._results
            self._spawn()
            self._restarts += 1
            handed = 0
            while True:
                try:
                    request = leftover.get(timeout=0.05)
                except (queue.Empty, OSError, EOFError):
                    break
                if request is not None:
                    self._requests.put(request)
                    handed += 1
            leftover.close()
            old_results.close()
            # What the dead child held in memory is lost here; catch-up finds it in Slack.
            self._pending = handed
            self._cond.notify_all()
        if self._on_restart is not None:
            threading.Thread(target=self._on_restart, name="intake-catch-up",
                             daemon=True).start()


# ---------------------------------------------------------------------- the child's side
def child_main(settings: Any, requests: Any, results: Any) -> None:
    """The child: an `IntakeBatcher` fed from `requests`, reporting on `results`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminated = threading.Event()  # SIGTERM (systemd stops the whole group): finish, exit
    signal.signal(signal.SIGTERM, lambda signum, frame: terminated.set())
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s [intake]: %(message)s",
    )
    from commands.deps import Deps
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    deps = Deps.build(settings, engine)
    deps.wake_scheduler.connect(lambda at=None: results.put(("wake", at)))
    batcher = IntakeBatcher(deps, on_finished=lambda count: results.put(("done", count)))
    batcher.start()
    threading.Thread(target=_end_when_told, args=(requests, terminated), name="parent-watch",
                     daemon=True).start()
    try:
        while (request := requests.get()) is not None:
            batcher.submit(request)
    finally:
        batcher.stop()
        results.put(("stopped",))
        results.close()
        results.join_thread()
        engine.dispose()


def _end_when_told(requests: Any, terminated: threading.Event) -> None:
    """When the parent is gone (kill -9) or SIGTERM came, finish what is queued and exit."""
    parent = multiprocessing.parent_process()
    while not terminated.is_set():
        if parent is not None and wait([parent.sentinel], timeout=_POLL_SECONDS):
            break
        if parent is None:
            terminated.wait(_POLL_SECONDS)
    requests.put(None)
