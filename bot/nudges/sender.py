"""`send_pending_nudges`: outbox rows to Slack messages, each destination reached once.

`send_pending_nudges` claims due rows of the outbox (storage/repositories/nudges.py) under a
lease, re-checks the ticket (resolved, paused, or its metric stopped since the nudge was
planned: cancelled), delivers to every destination through bot/nudge_messages.py, recording
each one as it is reached, and retries or fails the rest by how Slack answered. A retry first
looks for the message it may already have posted (its block_id marker), so a crash after
Slack accepted a message never posts it twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bot.logs import log_event
from bot.metrics import SchedulerMetrics
from bot.nudge_messages import Delivery, DeliveryKind, deliver_nudge, marker_for
from bot.nudges.lookup import find_posted
from bot.nudges.options import SenderOptions, SendReport
from bot.nudges.outcome import (
    Outcome,
    record_cancelled,
    record_outcome,
    refresh_ticket_card,
    retry_or_fail,
)
from bot.nudges.prepare import Cancel, Prepared, prepare_nudge
from bot.slack_errors import is_permanent, slack_error_code
from commands.deps import Deps
from storage.repositories import nudges as outbox

log = logging.getLogger(__name__)


class _LostLease(Exception):
    """Another sender took the row over (our lease ran out): stop without marking anything."""


def send_pending_nudges(
    deps: Deps, options: SenderOptions, *, metrics: SchedulerMetrics | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Claim due outbox rows and deliver them; each row ends sent, cancelled, retried or failed.

    Re-checks the ticket right before sending: resolved, paused or a stopped metric cancels.
    """
    now = now or deps.clock.now()
    with deps.unit_of_work() as session:
        rows = outbox.claim_pending_nudges(
            session=session,
            now=now,
            holder=options.holder,
            limit=options.batch,
            lease=options.lease,
        )
        by_ticket: dict[int, list[int]] = {}
        for row in rows:
            if row.id is not None:
                by_ticket.setdefault(row.ticket_id, []).append(row.id)
    groups = list(by_ticket.values())

    def send_group(nudge_ids: list[int]) -> SendReport:
        # One ticket's nudges go out in order, by one thread: they never overtake each other.
        part = SendReport()
        for nudge_id in nudge_ids:
            _send_one(deps, options, nudge_id, part, metrics)
        return part

    if options.workers <= 1 or len(groups) <= 1:
        parts = [send_group(group) for group in groups]
    else:
        # Slack round trips overlap across tickets; database writes stay short transactions.
        with ThreadPoolExecutor(max_workers=options.workers) as pool:
            parts = list(pool.map(send_group, groups))
    report = SendReport()
    for part in parts:
        report.add(part)
    return report


def _send_one(deps: Deps, options: SenderOptions, nudge_id: int, report: SendReport,
              metrics: SchedulerMetrics | None) -> None:
    now = deps.clock.now()
    try:
        found = prepare_nudge(deps, options, nudge_id, now)
    except Exception as exc:  # e.g. a stored policy that no longer loads: retried, then failed
        log_event(
            log, logging.ERROR, "nudge could not be prepared", exc_info=True, nudge_id=nudge_id
        )
        retry_or_fail(deps, options, nudge_id, f"{type(exc).__name__}: {exc}", report, metrics)
        return
    if isinstance(found, Cancel):
        record_cancelled(deps, options, nudge_id, found, report, metrics, now)
        return
    if found is None:
        report.lost_lease += 1
        return
    attempt = _Attempt(deps, options, found, metrics)
    try:
        outcome = attempt.deliver()
    except _LostLease:
        report.lost_lease += 1
        log_event(log, logging.WARNING, "nudge lease lost mid-send", nudge_id=nudge_id)
    else:
        record_outcome(deps, options, found, outcome, report, metrics)
    if attempt.thread_reached:
        # After the outcome is recorded: the card is a courtesy that never decides it.
        refresh_ticket_card(deps, found.ticket_id, found.ticket.key)


class _Attempt:
    """One attempt at a prepared nudge: each destination not reached yet, in order, each one
    recorded as soon as it is reached (a crash later never repeats it)."""

    def __init__(self, deps: Deps, options: SenderOptions, prepared: Prepared,
                 metrics: SchedulerMetrics | None) -> None:
        self._deps = deps
        self._options = options
        self._prepared = prepared
        self._metrics = metrics
        self.thread_reached = False  # the thread got this nudge now: its card must catch up

    def deliver(self) -> Outcome:
        """Every destination not reached yet; raises _LostLease when the row was taken over."""
        prepared = self._prepared
        reached = set(prepared.already)
        given_up = [f"{key}: {why}" for key, why in prepared.given_up.items()]
        thread_ts = None
        for delivery in prepared.deliveries:
            if delivery.key in reached or delivery.key in prepared.given_up:
                continue
            try:
                thread_ts = self._deliver_one(delivery) or thread_ts
            except _LostLease:
                raise
            except Exception as exc:  # Slack and network errors: classified, never swallowed
                if self._metrics is not None:
                    self._metrics.send_errors.inc()
                if not is_permanent(exc):
                    return Outcome(frozenset(reached), tuple(given_up), thread_ts, exc)
                # No retry can reach this destination; the others still get the nudge.
                log_event(log, logging.WARNING, "nudge destination given up",
                          nudge_id=prepared.nudge_id, destination=delivery.key,
                          error=slack_error_code(exc))
                why = slack_error_code(exc) or type(exc).__name__
                given_up.append(f"{delivery.key}: {why}")
                self._record(delivery, given_up=why)
                continue
            reached.add(delivery.key)
            self.thread_reached = self.thread_reached or delivery.kind is DeliveryKind.THREAD
        return Outcome(frozenset(reached), tuple(given_up), thread_ts, None)

    def _deliver_one(self, delivery: Delivery) -> str | None:
        """Post to one destination (unless an earlier attempt did); the thread reply's ts."""
        prepared = self._prepared
        if prepared.attempts > 1 and find_posted(
            self._deps.notifier, prepared.ticket, delivery, self._marker(delivery)
        ):
            log_event(log, logging.INFO, "nudge already in Slack from an earlier attempt",
                      nudge_id=prepared.nudge_id, destination=delivery.key)
            self._record(delivery)
            return None
        result = deliver_nudge(
            self._deps.notifier, prepared.facts, prepared.ticket, [delivery],
            on_delivered=lambda reached, _ts: self._record(reached), marker=self._marker,
        )
        return result.thread_ts

    def _marker(self, delivery: Delivery) -> str:
        return marker_for(self._prepared.nudge_id, delivery)

    def _record(self, delivery: Delivery, *, given_up: str | None = None) -> None:
        with self._deps.unit_of_work() as session:
            kept = outbox.record_nudge_delivery(
                session=session,
                nudge_id=self._prepared.nudge_id,
                destination=delivery.key,
                holder=self._options.holder,
                given_up=given_up,
            )
        if not kept:
            raise _LostLease(self._prepared.nudge_id)
