"""How a claimed nudge ended, recorded and counted: sent, cancelled, retried or failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.logs import log_event
from bot.metrics import SchedulerMetrics
from bot.nudge_messages import LATE_AFTER, marker_for
from bot.nudges.lookup import find_posted
from bot.nudges.options import SenderOptions, SendReport
from bot.nudges.prepare import Cancel, Prepared, still_ours
from bot.slack_errors import slack_error_code
from commands import cards
from commands.deps import Deps
from storage.models import Nudge
from storage.repositories import nudges as outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How the deliveries of one attempt went."""

    reached: frozenset[str]  # destinations that have the nudge, earlier attempts included
    given_up: tuple[str, ...]  # "destination: error" of those no retry can reach
    thread_ts: str | None  # the thread reply this attempt posted
    error: BaseException | None  # what stopped this attempt; None: it went through the list


def record_outcome(deps: Deps, options: SenderOptions, prepared: Prepared, outcome: Outcome,
                   report: SendReport, metrics: SchedulerMetrics | None) -> None:
    """Mark the row sent, failed, or due again, by how its deliveries went."""
    if outcome.error is None:
        _record_delivered(deps, prepared, outcome, report, metrics)
    else:
        _record_error(deps, options, prepared, outcome.error, report, metrics)


def _record_delivered(deps: Deps, prepared: Prepared, outcome: Outcome, report: SendReport,
                      metrics: SchedulerMetrics | None) -> None:
    label = str(prepared.facts.metric)
    # Sent when anyone got it; the destinations given up stay in the row's error.
    sent = bool(outcome.reached) or not prepared.deliveries
    given_up = "; ".join(outcome.given_up) or None
    with deps.unit_of_work() as session:
        if sent:
            outbox.mark_nudge_sent(
                session=session,
                nudge_id=prepared.nudge_id,
                at=deps.clock.now(),
                slack_channel=prepared.ticket.channel_id if outcome.thread_ts else None,
                slack_ts=outcome.thread_ts,
                error=given_up,
            )
        else:
            outbox.mark_nudge_failed(session=session, nudge_id=prepared.nudge_id,
                                     error=given_up or "")
    if not sent:
        _count_failed(report, metrics, label)
        log_event(log, logging.ERROR, "nudge failed: no destination reachable",
                  nudge_id=prepared.nudge_id, errors=list(outcome.given_up))
        return
    report.sent += 1
    if metrics is not None:
        metrics.nudges_sent.labels(metric=label).inc()
        metrics.nudge_lateness.observe(prepared.facts.lateness.total_seconds())
        if prepared.facts.lateness >= LATE_AFTER:
            metrics.nudges_late.labels(metric=label).inc()
    log_event(log, logging.INFO, "nudge sent", nudge_id=prepared.nudge_id,
              ticket=prepared.ticket.key, given_up=list(outcome.given_up))


def _record_error(deps: Deps, options: SenderOptions, prepared: Prepared, error: BaseException,
                  report: SendReport, metrics: SchedulerMetrics | None) -> None:
    message = f"{type(error).__name__}: {slack_error_code(error) or error}"
    final = prepared.attempts >= options.max_attempts
    retry_at = None if final else options.retry_at(deps.clock.now(), prepared.attempts)
    with deps.unit_of_work() as session:
        outbox.mark_nudge_failed(
            session=session, nudge_id=prepared.nudge_id, error=message, retry_at=retry_at
        )
    if retry_at is None:
        _count_failed(report, metrics, str(prepared.facts.metric))
        log_event(log, logging.ERROR, "nudge failed for good", nudge_id=prepared.nudge_id,
                  ticket=prepared.ticket.key, attempts=prepared.attempts, error=message)
        return
    report.retried += 1
    log_event(log, logging.WARNING, "nudge send failed, will retry", nudge_id=prepared.nudge_id,
              attempts=prepared.attempts, retry_at=retry_at.isoformat(), error=message)


def retry_or_fail(deps: Deps, options: SenderOptions, nudge_id: int, error: str,
                  report: SendReport, metrics: SchedulerMetrics | None) -> None:
    """A row that could not even be prepared: due again with backoff, or failed for good."""
    with deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        if row is None or row.claimed_by != options.holder:
            report.lost_lease += 1
            return
        final = row.attempts >= options.max_attempts
        outbox.mark_nudge_failed(
            session=session,
            nudge_id=nudge_id,
            error=error,
            retry_at=None if final else options.retry_at(deps.clock.now(), row.attempts),
        )
        metric = row.metric
    if final:
        _count_failed(report, metrics, metric)
        log_event(log, logging.ERROR, "nudge failed for good", nudge_id=nudge_id, error=error)
    else:
        report.retried += 1


def _count_failed(report: SendReport, metrics: SchedulerMetrics | None, metric: str) -> None:
    report.failed += 1
    if metrics is not None:
        metrics.nudges_failed.labels(metric=metric).inc()


def record_cancelled(deps: Deps, options: SenderOptions, nudge_id: int, cancel: Cancel,
                     report: SendReport, metrics: SchedulerMetrics | None, now: datetime) -> None:
    """Drop a claimed row unsent, unless an earlier attempt already reached someone.

    A process killed between Slack accepting a message and the commit that records it leaves
    a row that looks unsent. Before calling such a row cancelled, ask Slack: a nudge people
    have read is recorded as sent (what was reached), and only the rest is dropped.
    """
    reached = set(cancel.already)
    if cancel.attempts > 1:
        for delivery in cancel.deliveries:
            if delivery.key not in reached and find_posted(
                deps.notifier, cancel.ticket, delivery, marker_for(nudge_id, delivery)
            ):
                reached.add(delivery.key)
    with deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        if row is None or not still_ours(row, options):
            report.lost_lease += 1
            return
        if reached:
            for destination in sorted(reached - cancel.already):
                outbox.record_nudge_delivery(
                    session=session, nudge_id=nudge_id, destination=destination
                )
            outbox.mark_nudge_sent(session=session, nudge_id=nudge_id, at=now,
                                   error=f"the rest not sent: {cancel.reason}")
        else:
            outbox.mark_nudge_cancelled(session=session, nudge_id=nudge_id, reason=cancel.reason)
    if reached:
        report.sent += 1
        log_event(log, logging.INFO, "nudge found sent by an earlier attempt", nudge_id=nudge_id,
                  destinations=sorted(reached), reason=cancel.reason)
        return
    report.cancelled += 1
    if metrics is not None:
        metrics.nudges_cancelled.labels(reason=cancel_reason_label(cancel.reason)).inc()
    log_event(log, logging.INFO, "nudge cancelled", nudge_id=nudge_id, reason=cancel.reason)


def cancel_reason_label(reason: str) -> str:
    """The /metrics label of a cancellation: one word per kind of reason."""
    for word, label in (("superseded", "superseded"), ("resolved", "resolved"),
                        ("paused", "paused")):
        if word in reason:
            return label
    return "stopped"


def refresh_ticket_card(deps: Deps, ticket_id: int, key: str) -> None:
    """Queue a redraw of a ticket's card (a threshold just passed); never raises.

    Without this the card keeps saying "in 1 h" long after a breach: nothing else moves it
    when only time passes. The outbox sender draws it as the ticket is when it sends.
    """
    try:
        cards.refresh_card(deps, ticket_id)
    except Exception as exc:  # the nudge went out; a stale card is no reason to retry it
        log_event(
            log,
            logging.WARNING,
            "ticket card redraw not queued after a nudge",
            exc_info=True,
            ticket=key,
            error=type(exc).__name__,
        )
