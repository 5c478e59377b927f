"""APScheduler wiring: the nudge dispatcher's wake-ups and the weekly digest jobs.

The work: the inbox worker (`inbox_cycle`, bot/inbox.py) applies the events Slack delivered;
the planner (`plan_cycle`) claims tickets whose next look has come and turns their due nudges
into outbox rows; the sender (`send_cycle`) delivers every queued Slack write (bot/outbox.py)
and the nudges (bot/nudges.py). `start_scheduler` runs each on its own `Dispatcher`, so a
slow Slack never delays planning or intake; `run_cycle` does all three in one thread.

* `Dispatcher` runs one cycle at the instant the previous cycle asked for (the earliest
  `next_due_at`, or outbox retry), whenever woken (a ticket changed; the planner queued
  nudges), and on a safety sweep. Cycles of one dispatcher never overlap: a wake during a
  cycle makes that cycle run again.
* `DigestJobs` keeps one `CronTrigger` job per digest subscription, in the subscription's
  time zone; each run first takes the slot's lease in the database, so with several
  replicas exactly one of them sends a given slot.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from prometheus_client import CollectorRegistry

from bot.inbox import drain_inbox, next_inbox_attempt_at
from bot.logs import log_event
from bot.metrics import SchedulerMetrics
from bot.nudges import SenderOptions, send_pending_nudges
from bot.outbox import next_write_at, send_outbox
from sla.clock import compute_clock
from sla.escalation import plan_nudges
from storage.models import NudgeState
from storage.repositories import digests as digest_repo
from storage.repositories import inbox as inbox_repo
from storage.repositories import jobs as jobs_repo
from storage.repositories import nudges as outbox
from storage.repositories import outbox as outbox_repo
from storage.repositories import ticket_events as event_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(seconds=30)
_DIGEST_PREFIX = "digest:"
_MIN_SPACING = timedelta(milliseconds=50)
INBOX_BATCH = 50
# Applied events are kept a day (Slack redelivers within minutes), delivered writes a week
# (to answer "did the bot post that?"); parked and failed rows stay until someone looks.
KEEP_APPLIED = timedelta(days=1)
KEEP_DELIVERED = timedelta(days=7)
# A ticket whose planning failed (e.g. its stored policy no longer loads) is looked at again.
PLAN_RETRY = timedelta(minutes=5)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DispatcherState:
    """What /healthz reports about the dispatcher."""

    running: bool
    cycles: int
    last_cycle_at: datetime | None
    last_error: str | None
    next_wake_at: datetime | None


class Dispatcher:
    """Runs `cycle()` when it asks to, when woken, and on a sweep; never two cycles at once.

    `cycle()` does one round of work and returns the next instant it wants to run at (or
    None: only the sweep and wake-ups will run it again).
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        cycle: Callable[[], datetime | None],
        *,
        sweep_every: timedelta = SWEEP_EVERY,
        now: Callable[[], datetime] = _utcnow,
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
            next_run_time=_utcnow(),
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
        run_date = _utcnow() + max(at - self._now(), timedelta(0))
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


@dataclass(frozen=True)
class DigestSlot:
    """A digest subscription as the scheduler sees it: when it fires, in which zone."""

    subscription_id: int
    cron: str  # five-field crontab, e.g. "0 9 * * mon"
    tz: str


def digest_trigger(slot: DigestSlot) -> CronTrigger:
    """The APScheduler trigger for a subscription, in its own time zone (DST-correct)."""
    return CronTrigger.from_crontab(slot.cron, timezone=slot.tz)


def latest_fire_at_or_before(trigger: CronTrigger, instant: datetime) -> datetime | None:
    """The trigger's most recent fire time at or before `instant` (the slot a run belongs to)."""
    # Weekly and daily crons: start a little over a week back and walk forward.
    probe = instant - timedelta(days=8)
    fire = trigger.get_next_fire_time(None, probe)
    latest = None
    while fire is not None and fire <= instant:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest.astimezone(UTC) if latest else None


class DigestJobs:
    """One cron job per digest subscription; each slot runs once across all replicas."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        *,
        acquire_slot: Callable[[str, str], bool],
        send: Callable[[int, datetime], Any],
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._scheduler = scheduler
        self._acquire_slot = acquire_slot
        self._send = send
        self._now = now
        self._slots: dict[str, DigestSlot] = {}

    def sync(self, slots: Iterable[DigestSlot]) -> None:
        """Make the scheduled jobs match `slots`: add new ones, move changed ones, drop old ones.

        Unchanged jobs are left alone, so a sync at a slot's instant never skips that slot.
        """
        wanted = {f"{_DIGEST_PREFIX}{slot.subscription_id}": slot for slot in slots}
        for job in self._scheduler.get_jobs():
            if job.id.startswith(_DIGEST_PREFIX) and job.id not in wanted:
                job.remove()
                self._slots.pop(job.id, None)
        for job_id, slot in wanted.items():
            if self._slots.get(job_id) == slot and self._scheduler.get_job(job_id) is not None:
                continue
            self._scheduler.add_job(
                self.run_slot,
                digest_trigger(slot),
                args=[slot],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                # A bot that was down over the slot still sends it within a few hours.
                misfire_grace_time=6 * 3600,
            )
            self._slots[job_id] = slot

    def job_ids(self) -> list[str]:
        """Ids of the scheduled digest jobs (for health checks and tests)."""
        return sorted(j.id for j in self._scheduler.get_jobs() if j.id.startswith(_DIGEST_PREFIX))

    def run_slot(self, slot: DigestSlot, now: datetime | None = None) -> bool:
        """Send this subscription's digest for the slot containing `now`, if no replica did."""
        now = now or self._now()
        slot_start = latest_fire_at_or_before(digest_trigger(slot), now)
        if slot_start is None:
            return False
        name = f"{_DIGEST_PREFIX}{slot.subscription_id}"
        if not self._acquire_slot(name, slot_start.isoformat()):
            log_event(
                log, logging.INFO, "digest slot already taken", job=name, slot=str(slot_start)
            )
            return False
        log_event(log, logging.INFO, "digest slot acquired", job=name, slot=str(slot_start))
        try:
            self._send(slot.subscription_id, slot_start)
        except Exception:  # one broken digest must not stop the others; the log says which
            log_event(
                log, logging.ERROR, "digest failed", exc_info=True, job=name, slot=str(slot_start)
            )
        return True


def new_background_scheduler() -> BackgroundScheduler:
    """A BackgroundScheduler in UTC with a small thread pool (cycles are short and serialised)."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={"default": {"type": "threadpool", "max_workers": 4}},
        job_defaults={"coalesce": True},
    )


# --------------------------------------------------------------------------- the work


@dataclass(frozen=True)
class SchedulerOptions:
    """Knobs of the nudge scheduler; `from_env` reads the optional SLABOT_SCHEDULER_* variables."""

    holder: str
    sweep_every: timedelta = SWEEP_EVERY
    claim_batch: int = 200
    ticket_lease: timedelta = timedelta(minutes=2)
    sender: SenderOptions | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SchedulerOptions:
        """Instance id (stable across restarts lets a restarted bot resume its claims at once).

        Raises SchedulerConfigError naming the variable when a number is not one.
        """
        holder = environ.get("SLABOT_INSTANCE_ID", "").strip() or default_holder()
        sweep = _seconds(environ, "SLABOT_SCHEDULER_SWEEP_SECONDS", SWEEP_EVERY)
        lease = _seconds(environ, "SLABOT_NUDGE_LEASE_SECONDS", timedelta(minutes=2))
        return cls(
            holder=holder, sweep_every=sweep, sender=SenderOptions(holder=holder, lease=lease)
        )

    @property
    def send(self) -> SenderOptions:
        """Sender options (same holder)."""
        return self.sender or SenderOptions(holder=self.holder)


class SchedulerConfigError(ValueError):
    """A scheduler setting in the environment is not usable."""


def _seconds(environ: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SchedulerConfigError(f"{name} must be a positive number of seconds, got {text!r}")
    return timedelta(seconds=value)


def default_holder() -> str:
    """host:pid:random, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class PlanReport:
    """What one planning pass did."""

    tickets: int = 0
    queued: int = 0
    skipped: int = 0


def plan_due_tickets(
    deps: Any,
    options: SchedulerOptions,
    *,
    metrics: SchedulerMetrics | None = None,
    now: datetime | None = None,
) -> PlanReport:
    """Claim tickets whose next look has come, queue their due nudges, set their next look.

    Each ticket is planned in its own unit of work with the row locked, so a ticket change
    committing meanwhile is either fully before (and seen) or waits for us (and re-plans).
    """
    report = PlanReport()
    now = now or deps.clock.now()
    while True:
        with deps.unit_of_work() as session:
            claimed = outbox.claim_due_nudges(
                session=session,
                now=now,
                holder=options.holder,
                limit=options.claim_batch,
                lease=options.ticket_lease,
            )
            due = [(t.id, t.next_due_at) for t in claimed]
        if metrics is not None:
            metrics.tickets_claimed.inc(len(due))
        for ticket_id, due_at in due:
            if metrics is not None and due_at is not None:
                metrics.event_lag.observe(max((now - due_at).total_seconds(), 0.0))
            try:
                _plan_ticket(deps, options, ticket_id, now, report, metrics)
            except Exception:  # one broken ticket must not hold up the others; it is retried
                log_event(log, logging.ERROR, "planning failed", exc_info=True, ticket_id=ticket_id)
                with deps.unit_of_work() as session:
                    outbox.release_ticket(
                        session=session,
                        ticket_id=ticket_id,
                        holder=options.holder,
                        next_due_at=now + PLAN_RETRY,
                    )
        report.tickets += len(due)
        if len(due) < options.claim_batch:
            return report


def _plan_ticket(
    deps: Any,
    options: SchedulerOptions,
    ticket_id: int,
    now: datetime,
    report: PlanReport,
    metrics: SchedulerMetrics | None,
) -> None:
    with deps.unit_of_work() as session:
        ticket = ticket_repo.get_ticket(session=session, ticket_id=ticket_id, for_update=True)
        if ticket.claimed_by != options.holder:
            return  # our lease ran out and someone else has it
        policy = workspace_repo.get_policy(
            session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
        )
        events = event_repo.load_clock_events(session=session, ticket_id=ticket.id)
        clock = compute_clock(events, policy, now)
        sent = outbox.load_sent_nudges(session=session, ticket_id=ticket.id)
        plan = plan_nudges(clock, policy, sent, now)
        for nudge in plan.due:
            if outbox.add_nudge(session=session, ticket_id=ticket.id, nudge=nudge) is not None:
                report.queued += 1
                log_event(
                    log,
                    logging.INFO,
                    "nudge queued",
                    ticket=ticket.key,
                    metric=str(nudge.metric),
                    threshold=nudge.threshold,
                    seq=nudge.seq,
                    late=nudge.late,
                )
        for nudge in plan.skipped:
            added = outbox.add_nudge(
                session=session, ticket_id=ticket.id, nudge=nudge, state=NudgeState.SKIPPED
            )
            if added is not None:
                report.skipped += 1
                if metrics is not None:
                    metrics.nudges_skipped.inc()
        outbox.release_ticket(
            session=session,
            ticket_id=ticket.id,
            holder=options.holder,
            next_due_at=plan.next_wake_at,
        )


def plan_cycle(
    deps: Any, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """The planner's round: queue due nudges; returns when a ticket needs planning next."""
    if metrics is not None:
        metrics.dispatch_cycles.inc()
    plan_due_tickets(deps, options, metrics=metrics)
    with deps.unit_of_work() as session:
        return outbox.next_ticket_due_at(session=session)


def send_cycle(
    deps: Any, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """The sender's round: every queued Slack write (cards, notes, answers), the nudges,
    then the card redraws those nudges queued; returns when a row can be sent next."""

    def writes() -> None:
        while True:
            claimed = send_outbox(deps, holder=options.holder, limit=options.send.batch,
                                  workers=options.send.workers, metrics=metrics).claimed
            if claimed == 0 or claimed < options.send.batch:
                break

    writes()
    while True:
        sent = send_pending_nudges(deps, options.send, metrics=metrics)
        if sent.claimed == 0 or sent.claimed < options.send.batch:
            break
    writes()
    with deps.unit_of_work() as session:
        backlog = outbox.outbox_backlog(session=session)
        next_at = outbox.next_outbox_attempt_at(session=session)
    if metrics is not None:
        metrics.outbox_pending.set(backlog)
    writes_at = next_write_at(deps)
    return min((t for t in (next_at, writes_at) if t is not None), default=None)


def inbox_cycle(
    deps: Any, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """The inbox worker's round: apply what Slack delivered; returns when a failed row is
    due again."""
    while drain_inbox(deps, holder=options.holder, limit=INBOX_BATCH,
                      metrics=metrics) >= INBOX_BATCH:
        pass
    return next_inbox_attempt_at(deps)


def prune_queues(deps: Any) -> tuple[int, int]:
    """Forget applied inbox rows and delivered outbox rows past their keeping time."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        applied = inbox_repo.forget_done_before(session=session, before=now - KEEP_APPLIED)
        delivered = outbox_repo.forget_delivered_before(session=session,
                                                        before=now - KEEP_DELIVERED)
    return applied, delivered


def run_cycle(
    deps: Any, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """Inbox, plan, send, in one thread (tests, tools); returns when there is work next."""
    next_inbox = inbox_cycle(deps, options, metrics=metrics)
    next_plan = plan_cycle(deps, options, metrics=metrics)
    next_send = send_cycle(deps, options, metrics=metrics)
    return min((t for t in (next_inbox, next_plan, next_send) if t is not None), default=None)


class SchedulerHandle:
    """The running scheduler: wake it, ask its health, stop it."""

    def __init__(
        self,
        deps: Any,
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
                "planner": _state_json(planner),
                "sender": _state_json(sender),
                "inbox": _state_json(inbox),
                "digest_jobs": len(self.digests.job_ids()),
            },
            "outbox_backlog": backlog,
        }

    @property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry /metrics serves (the scheduler's metrics are in it)."""
        return self.metrics.registry

    def stop(self, wait: bool = True) -> None:
        """Stop the scheduler (running cycles finish when `wait`: in-flight deliveries are
        recorded) and disconnect the wake hooks."""
        for hook in (self.deps.wake_scheduler, self.deps.wake_outbox, self.deps.wake_inbox):
            connect = getattr(hook, "connect", None)
            if callable(connect):
                connect(None)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)


def _state_json(state: DispatcherState) -> dict[str, Any]:
    return {
        "cycles": state.cycles,
        "last_cycle_at": state.last_cycle_at.isoformat() if state.last_cycle_at else None,
        "next_wake_at": state.next_wake_at.isoformat() if state.next_wake_at else None,
        "last_error": state.last_error,
    }


def _logged(fn: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:  # logged with its traceback; the next run tries again
            log.exception("scheduler job %s failed", getattr(fn, "__name__", fn))

    return run


def digest_slots(deps: Any) -> list[DigestSlot]:
    """Active digest subscriptions as cron slots (weekday + time become a weekly crontab)."""
    slots = []
    with deps.unit_of_work() as session:
        for row in digest_repo.list_digest_subscriptions(session=session):
            cron = row.cron or _weekly_cron(row.weekday, row.time_of_day)
            if cron and row.active:
                slots.append(DigestSlot(row.id, cron, row.tz))
    return slots


def _weekly_cron(weekday: int | None, time_of_day: str | None) -> str | None:
    if weekday is None or not time_of_day:
        return None
    hour, minute = (int(part) for part in time_of_day.split(":"))
    return f"{minute} {hour} * * {_CRON_DAYS[weekday]}"


_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _digest_sender(deps: Any) -> Callable[[int, datetime], Any]:
    def send(subscription_id: int, slot_start: datetime) -> Any:
        from bot.views.digest import DIGEST_VIEWS
        from commands.digest_send import send_digest

        return send_digest(deps, subscription_id, slot_start, DIGEST_VIEWS)

    return send


def slot_acquirer(deps: Any, holder: str) -> Callable[[str, str], bool]:
    """The run-once lease of a job slot, taken in the database (insert-once row)."""

    def acquire(name: str, slot: str) -> bool:
        with deps.unit_of_work() as session:
            return jobs_repo.acquire_job_slot(session=session, name=name, slot=slot, holder=holder)

    return acquire


def start_scheduler(
    deps: Any,
    options: SchedulerOptions | None = None,
    *,
    metrics: SchedulerMetrics | None = None,
    registry: CollectorRegistry | None = None,
    send_digest: Callable[[int, datetime], Any] | None = None,
) -> SchedulerHandle:
    """Start the nudge dispatcher and digest jobs; connects `deps.wake_scheduler` to it."""
    options = options or SchedulerOptions.from_env(os.environ)
    metrics = metrics or SchedulerMetrics(registry)
    scheduler = new_background_scheduler()
    with deps.unit_of_work() as session:
        # A restart under the same instance id resumes its own unfinished claims at once.
        outbox.expire_claims_of(session=session, holder=options.holder, now=deps.clock.now())
    # Planning never waits for Slack: the sender has its own thread and wake-ups, and the
    # planner wakes it whenever it queued something.
    sender = Dispatcher(
        scheduler,
        lambda: send_cycle(deps, options, metrics=metrics),
        sweep_every=options.sweep_every,
        now=deps.clock.now,
        name="sla-send",
    )

    def plan() -> datetime | None:
        next_at = plan_cycle(deps, options, metrics=metrics)
        sender.wake()
        return next_at

    planner = Dispatcher(
        scheduler, plan, sweep_every=options.sweep_every, now=deps.clock.now, name="sla-plan"
    )
    inbox = Dispatcher(
        scheduler,
        lambda: inbox_cycle(deps, options, metrics=metrics),
        sweep_every=options.sweep_every,
        now=deps.clock.now,
        name="sla-inbox",
    )
    digests = DigestJobs(
        scheduler,
        acquire_slot=slot_acquirer(deps, options.holder),
        send=send_digest or _digest_sender(deps),
        now=deps.clock.now,
    )
    handle = SchedulerHandle(
        deps,
        options,
        metrics=metrics,
        scheduler=scheduler,
        planner=planner,
        sender=sender,
        inbox=inbox,
        digests=digests,
    )
    scheduler.start()
    sender.start()
    inbox.start()
    planner.start()
    handle.sync_digests()
    # Subscriptions change through /sla digest on any replica: pick them up every minute.
    scheduler.add_job(
        _logged(handle.sync_digests),
        "interval",
        seconds=60,
        id="digest-sync",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        _logged(lambda: prune_queues(deps)),
        "interval",
        hours=1,
        id="queue-prune",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    for hook, wake in ((deps.wake_scheduler, handle.wake), (deps.wake_outbox, sender.wake),
                       (deps.wake_inbox, inbox.wake)):
        connect = getattr(hook, "connect", None)
        if callable(connect):
            connect(wake)
    log_event(log, logging.INFO, "scheduler started", instance=options.holder)
    return handle
