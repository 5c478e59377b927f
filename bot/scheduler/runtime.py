"""`start_scheduler`: the planner, sender and inbox dispatchers and the digest jobs, running.

Each round of work (bot/scheduler/cycles.py) runs on its own `Dispatcher`, so a slow Slack
never delays planning or intake; the deps' wake hooks are connected to them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry

from bot.logs import log_event
from bot.metrics import SchedulerMetrics
from bot.scheduler.cycles import inbox_cycle, plan_cycle, prune_queues, send_cycle
from bot.scheduler.digests import (
    DigestJobs,
    SendDigest,
    digest_sender,
    digest_slots,
    slot_acquirer,
)
from bot.scheduler.dispatcher import Dispatcher, new_background_scheduler
from bot.scheduler.options import SchedulerOptions
from commands.deps import Deps
from storage.repositories import nudges as outbox

log = logging.getLogger(__name__)


class SchedulerHandle:
    """The running scheduler: wake it, ask its health, stop it."""

    def __init__(
        self,
        deps: Deps,
        options: SchedulerOptions,
        *,
        metrics: SchedulerMetrics,
        scheduler: BackgroundScheduler,
        planner: Dispatcher,
        sender: Dispatcher,
        inbox: Dispatcher,
        digests: DigestJobs,
    ) -> None:
        self.deps = deps
        self.options = options
        self.metrics = metrics
        self.scheduler = scheduler
        self.planner = planner
        self.sender = sender
        self.inbox = inbox
        self.digests = digests

    def wake(self, at: datetime | None = None) -> None:
        """Ticket times changed: plan again now (or by `at`, the earliest changed next look)."""
        self.planner.wake(at)

    def sync_digests(self) -> None:
        """Reload digest subscriptions into cron jobs (after subscribe/unsubscribe)."""
        self.digests.sync(digest_slots(self.deps))

    def health(self) -> dict[str, Any]:
        """Scheduler state and outbox backlog for /healthz ("ok" False when it is down)."""
        planner, sender, inbox = self.planner.state(), self.sender.state(), self.inbox.state()
        with self.deps.unit_of_work() as session:
            backlog = outbox.outbox_backlog(session=session)
        self.metrics.outbox_pending.set(backlog)
        running = planner.running and sender.running and inbox.running
        return {
            "ok": running and all(s.last_error is None for s in (planner, sender, inbox)),
            "scheduler": {
                "running": running,
                "instance": self.options.holder,
                "planner": planner.as_json(),
                "sender": sender.as_json(),
                "inbox": inbox.as_json(),
                "digest_jobs": len(self.digests.job_ids()),
            },
            "outbox_backlog": backlog,
        }

    @property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry /metrics serves (the scheduler's metrics are in it)."""
        return self.metrics.registry

    def connect_wake_hooks(self) -> None:
        """Route the deps' wake-ups (a ticket changed, writes or events were queued) here."""
        self._connect(self.wake, self.sender.wake, self.inbox.wake)

    def stop(self, wait: bool = True) -> None:
        """Stop the scheduler (running cycles finish when `wait`: in-flight deliveries are
        recorded) and disconnect the wake hooks."""
        self._connect(None, None, None)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def _connect(self, *wakes: Callable[..., None] | None) -> None:
        hooks = (self.deps.wake_scheduler, self.deps.wake_outbox, self.deps.wake_inbox)
        for hook, wake in zip(hooks, wakes, strict=True):
            connect = getattr(hook, "connect", None)
            if callable(connect):
                connect(wake)


def start_scheduler(
    deps: Deps,
    options: SchedulerOptions,
    *,
    metrics: SchedulerMetrics | None = None,
    send_digest: SendDigest | None = None,
) -> SchedulerHandle:
    """Start the nudge dispatcher and digest jobs; connects `deps.wake_scheduler` to it."""
    metrics = metrics or SchedulerMetrics()
    scheduler = new_background_scheduler()
    with deps.unit_of_work() as session:
        # A restart under the same instance id resumes its own unfinished claims at once.
        outbox.expire_claims_of(session=session, holder=options.holder, now=deps.clock.now())

    def dispatcher(name: str, cycle: Callable[[], datetime | None]) -> Dispatcher:
        return Dispatcher(scheduler, cycle, sweep_every=options.sweep_every,
                          now=deps.clock.now, name=name)

    # Planning never waits for Slack: the sender has its own thread and wake-ups, and the
    # planner wakes it whenever it queued something.
    sender = dispatcher("sla-send", lambda: send_cycle(deps, options, metrics=metrics))

    def plan() -> datetime | None:
        next_at = plan_cycle(deps, options, metrics=metrics)
        sender.wake()
        return next_at

    handle = SchedulerHandle(
        deps, options, metrics=metrics, scheduler=scheduler, sender=sender,
        planner=dispatcher("sla-plan", plan),
        inbox=dispatcher("sla-inbox", lambda: inbox_cycle(deps, options, metrics=metrics)),
        digests=DigestJobs(scheduler, acquire_slot=slot_acquirer(deps, options.holder),
                           send=send_digest or digest_sender(deps), now=deps.clock.now),
    )
    scheduler.start()
    for loop in (handle.sender, handle.inbox, handle.planner):
        loop.start()
    handle.sync_digests()
    # Subscriptions change through /sla digest on any replica: pick them up every minute.
    _every(scheduler, "digest-sync", handle.sync_digests, seconds=60)
    _every(scheduler, "queue-prune", lambda: prune_queues(deps), hours=1)
    handle.connect_wake_hooks()
    log_event(log, logging.INFO, "scheduler started", instance=options.holder)
    return handle


def _every(scheduler: BackgroundScheduler, job_id: str, job: Callable[[], object],
           **interval: int) -> None:
    """A periodic housekeeping job; a failure is logged and the next run tries again."""

    def run() -> None:
        try:
            job()
        except Exception:  # logged with its traceback; the next run tries again
            log.exception("scheduler job %s failed", job_id)

    scheduler.add_job(run, "interval", **interval, id=job_id, replace_existing=True,
                      coalesce=True, max_instances=1)
