"""The scheduler: wakes the inbox worker, nudge planner and sender, and runs digest jobs."""

from bot.config import SchedulerConfigError
from bot.scheduler.cycles import (
    PlanReport,
    inbox_cycle,
    plan_cycle,
    plan_due_tickets,
    prune_queues,
    run_cycle,
    send_cycle,
)
from bot.scheduler.digests import (
    DigestJobs,
    DigestSlot,
    digest_slots,
    digest_trigger,
    latest_fire_at_or_before,
    slot_acquirer,
)
from bot.scheduler.dispatcher import Dispatcher, DispatcherState, new_background_scheduler
from bot.scheduler.options import SchedulerOptions
from bot.scheduler.runtime import SchedulerHandle, start_scheduler

__all__ = [
    "DigestJobs",
    "DigestSlot",
    "Dispatcher",
    "DispatcherState",
    "PlanReport",
    "SchedulerConfigError",
    "SchedulerHandle",
    "SchedulerOptions",
    "digest_slots",
    "digest_trigger",
    "inbox_cycle",
    "latest_fire_at_or_before",
    "new_background_scheduler",
    "plan_cycle",
    "plan_due_tickets",
    "prune_queues",
    "run_cycle",
    "send_cycle",
    "slot_acquirer",
    "start_scheduler",
]
