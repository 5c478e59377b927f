"""The scheduler's rounds of work, each safe to run on any replica at any time.

The inbox worker (`inbox_cycle`, bot/inbox.py) applies the events Slack delivered; the
planner (`plan_cycle`) claims tickets whose next look has come and turns their due nudges
into outbox rows; the sender (`send_cycle`) delivers every queued Slack write (bot/outbox.py)
and the nudges (bot/nudges/). Each returns when it wants to run next; `run_cycle` does all
three in one thread (tests, tools).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.inbox import drain_inbox, next_inbox_attempt_at
from bot.logs import log_event, nudge_fields
from bot.metrics import SchedulerMetrics
from bot.nudges.sender import send_pending_nudges
from bot.outbox import next_write_at, send_outbox
from bot.scheduler.options import SchedulerOptions
from commands.clocks import clock_of, policy_of
from commands.deps import Deps
from sla.escalation import plan_nudges
from storage.models import NudgeState
from storage.repositories import inbox as inbox_repo
from storage.repositories import nudges as outbox
from storage.repositories import outbox as outbox_repo
from storage.repositories import tickets as ticket_repo

log = logging.getLogger(__name__)

INBOX_BATCH = 50
# Applied events are kept a day (Slack redelivers within minutes), delivered writes a week
# (to answer "did the bot post that?"); parked and failed rows stay until someone looks.
KEEP_APPLIED = timedelta(days=1)
KEEP_DELIVERED = timedelta(days=7)
# A ticket whose planning failed (e.g. its stored policy no longer loads) is looked at again.
PLAN_RETRY = timedelta(minutes=5)


@dataclass
class PlanReport:
    """What one planning pass did."""

    tickets: int = 0
    queued: int = 0
    skipped: int = 0


def plan_due_tickets(
    deps: Deps,
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
            due = [(t.id, t.next_due_at) for t in claimed if t.id is not None]
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
    deps: Deps,
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
        policy = policy_of(session, ticket)
        clock = clock_of(session, ticket, now, policy=policy)
        sent = outbox.load_sent_nudges(session=session, ticket_id=ticket_id)
        plan = plan_nudges(clock, policy, sent, now)
        for nudge in plan.due:
            if outbox.add_nudge(session=session, ticket_id=ticket_id, nudge=nudge) is not None:
                report.queued += 1
                log_event(log, logging.INFO, "nudge queued", ticket=ticket.key,
                          **nudge_fields(nudge), late=nudge.late)
        for nudge in plan.skipped:
            added = outbox.add_nudge(
                session=session, ticket_id=ticket_id, nudge=nudge, state=NudgeState.SKIPPED
            )
            if added is not None:
                report.skipped += 1
                if metrics is not None:
                    metrics.nudges_skipped.inc()
        outbox.release_ticket(
            session=session,
            ticket_id=ticket_id,
            holder=options.holder,
            next_due_at=plan.next_wake_at,
        )


def plan_cycle(
    deps: Deps, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """The planner's round: queue due nudges; returns when a ticket needs planning next."""
    if metrics is not None:
        metrics.dispatch_cycles.inc()
    plan_due_tickets(deps, options, metrics=metrics)
    with deps.unit_of_work() as session:
        return outbox.next_ticket_due_at(session=session)


def send_cycle(
    deps: Deps, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
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
    return _earliest(next_at, next_write_at(deps))


def inbox_cycle(
    deps: Deps, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """The inbox worker's round: apply what Slack delivered; returns when a failed row is
    due again."""
    while drain_inbox(deps, holder=options.holder, limit=INBOX_BATCH,
                      metrics=metrics) >= INBOX_BATCH:
        pass
    return next_inbox_attempt_at(deps)


def prune_queues(deps: Deps) -> tuple[int, int]:
    """Forget applied inbox rows and delivered outbox rows past their keeping time."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        applied = inbox_repo.forget_done_before(session=session, before=now - KEEP_APPLIED)
        delivered = outbox_repo.forget_delivered_before(session=session,
                                                        before=now - KEEP_DELIVERED)
    return applied, delivered


def run_cycle(
    deps: Deps, options: SchedulerOptions, *, metrics: SchedulerMetrics | None = None
) -> datetime | None:
    """Inbox, plan, send, in one thread (tests, tools); returns when there is work next."""
    return _earliest(
        inbox_cycle(deps, options, metrics=metrics),
        plan_cycle(deps, options, metrics=metrics),
        send_cycle(deps, options, metrics=metrics),
    )


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((t for t in instants if t is not None), default=None)
