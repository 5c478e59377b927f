"""Digest jobs: one `CronTrigger` job per digest subscription, in the subscription's zone.

Each run first takes the slot's lease in the database, so with several replicas exactly one
of them sends a given slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.logs import log_event
from bot.scheduler.dispatcher import utcnow
from commands.deps import Deps
from storage.repositories import digests as digest_repo
from storage.repositories import jobs as jobs_repo

log = logging.getLogger(__name__)

_DIGEST_PREFIX = "digest:"
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Sends one subscription's digest for the slot that starts at the given instant.
SendDigest = Callable[[int, datetime], object]


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
        send: SendDigest,
        now: Callable[[], datetime] = utcnow,
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


def digest_slots(deps: Deps) -> list[DigestSlot]:
    """Active digest subscriptions as cron slots (weekday + time become a weekly crontab)."""
    slots = []
    with deps.unit_of_work() as session:
        for row in digest_repo.list_digest_subscriptions(session=session):
            cron = row.cron or _weekly_cron(row.weekday, row.time_of_day)
            if cron and row.active and row.id is not None:
                slots.append(DigestSlot(row.id, cron, row.tz))
    return slots


def _weekly_cron(weekday: int | None, time_of_day: str | None) -> str | None:
    if weekday is None or not time_of_day:
        return None
    hour, minute = (int(part) for part in time_of_day.split(":"))
    return f"{minute} {hour} * * {_CRON_DAYS[weekday]}"


def digest_sender(deps: Deps) -> SendDigest:
    """The production `send`: queue the subscription's digest (commands/digest_send.py)."""

    def send(subscription_id: int, slot_start: datetime) -> object:
        from bot.views.digest import DIGEST_VIEWS
        from commands.digest_send import send_digest

        return send_digest(deps, subscription_id, slot_start, DIGEST_VIEWS)

    return send


def slot_acquirer(deps: Deps, holder: str) -> Callable[[str, str], bool]:
    """The run-once lease of a job slot, taken in the database (insert-once row)."""

    def acquire(name: str, slot: str) -> bool:
        with deps.unit_of_work() as session:
            return jobs_repo.acquire_job_slot(session=session, name=name, slot=slot, holder=holder)

    return acquire
