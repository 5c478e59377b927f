"""The nudge sender: outbox rows to Slack messages, each destination reached exactly once.

`send_pending_nudges` claims due rows of the outbox (storage/repositories/nudges.py) under a
lease, re-checks the ticket (resolved, paused, or its metric stopped since the nudge was
planned: cancelled), delivers to every destination through bot/nudge_messages.py, recording each one
as it is reached, and retries or fails the rest by how Slack answered. A retry first looks for
the message it may already have posted (its block_id marker), so a crash after Slack accepted
a message never posts it twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.logs import log_event
from bot.nudge_messages import (
    LATE_AFTER,
    Delivery,
    DeliveryKind,
    Escalation,
    NudgeFacts,
    NudgeTicket,
    deliver_nudge,
    marker_for,
    plan_deliveries,
)
from commands import cards
from sla.clock import compute_clock
from sla.targets import Audience, Metric
from storage.models import Nudge, NudgeState, TicketStatus
from storage.repositories import nudges as outbox
from storage.repositories import ticket_events as event_repo
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)


def find_posted(notifier: Any, ticket: NudgeTicket, delivery: Delivery, marker: str) -> bool | None:
    """Did an earlier attempt already post this message? None when Slack cannot tell us.

    A retry may follow a crash or a timeout *after* Slack accepted the message; looking for
    the message's block_id first is what turns "at least once" into "once".
    """
    client = getattr(notifier, "client", None)
    if client is None:
        return None
    try:
        if delivery.kind is DeliveryKind.THREAD:
            response = client.conversations_replies(
                channel=ticket.channel_id, ts=ticket.thread_ts, limit=1000
            )
        else:
            channel = delivery.target
            if delivery.kind is DeliveryKind.DM:
                channel = client.conversations_open(users=[delivery.target])["channel"]["id"]
            response = client.conversations_history(channel=channel, limit=200)
    except Exception as exc:  # no history scope, network trouble: fall back to sending
        log_event(
            log,
            logging.WARNING,
            "could not check for an earlier post",
            destination=delivery.key,
            error=type(exc).__name__,
        )
        return None
    return any(
        block.get("block_id") == marker
        for message in response.get("messages") or ()
        for block in message.get("blocks") or ()
    )


# Slack errors that no retry will fix: that destination is given up (logged), others proceed.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "thread_not_found",
        "message_not_found",
    }
)


@dataclass(frozen=True)
class SenderOptions:
    """How the sender claims and retries outbox rows."""

    holder: str
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=5)
    workers: int = 4

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        """When a failed attempt is tried again: exponential backoff, capped."""
        delay = min(self.backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)
        return now + delay


@dataclass
class SendReport:
    """What one sender pass did (for logs, metrics and tests)."""

    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0

    @property
    def claimed(self) -> int:
        """Rows this pass took from the outbox."""
        return self.sent + self.cancelled + self.retried + self.failed + self.lost_lease

    def add(self, other: SendReport) -> None:
        """Fold another pass's counts into this one."""
        self.sent += other.sent
        self.cancelled += other.cancelled
        self.retried += other.retried
        self.failed += other.failed
        self.lost_lease += other.lost_lease


class _LostLease(Exception):
    """Another sender took the row over (our lease ran out): stop without marking anything."""


def slack_error_code(exc: BaseException) -> str | None:
    """Slack's error code of a failed call (`channel_not_found`...), or None."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        error = response.get("error")
    except AttributeError:
        return None
    return error if isinstance(error, str) else None


def is_permanent(exc: BaseException) -> bool:
    """True for Slack answers that a retry cannot change (unknown channel, revoked token...)."""
    return slack_error_code(exc) in PERMANENT_SLACK_ERRORS


@dataclass(frozen=True)
class _Prepared:
    """A claimed row with everything needed to send it, read in one unit of work."""

    nudge_id: int
    ticket_id: int
    facts: NudgeFacts
    ticket: NudgeTicket
    deliveries: tuple[Delivery, ...]
    already: frozenset[str]
    attempts: int


def send_pending_nudges(
    deps: Any, options: SenderOptions, *, metrics: Any = None, now: datetime | None = None
) -> SendReport:
    """Claim due outbox rows and deliver them; each row ends sent, cancelled, retried or failed.

    Re-checks the ticket right before sending: resolved, paused or a stopped metric cancels.
    """

    report = SendReport()
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
    for part in parts:
        report.add(part)
    return report


def _send_one(
    deps: Any, options: SenderOptions, nudge_id: int, report: SendReport, metrics: Any
) -> None:

    now = deps.clock.now()
    try:
        prepared, cancel = _prepare(deps, options, nudge_id, now)
    except Exception as exc:  # e.g. a stored policy that no longer loads: retried, then failed
        log_event(
            log, logging.ERROR, "nudge could not be prepared", exc_info=True, nudge_id=nudge_id
        )
        _retry_or_fail(deps, options, nudge_id, f"{type(exc).__name__}: {exc}", report, metrics)
        return
    if cancel is not None:
        _cancel(deps, options, nudge_id, cancel, report, metrics, now)
        return
    if prepared is None:
        report.lost_lease += 1
        return

    def progress(delivery: Delivery, ts: str | None) -> None:
        with deps.unit_of_work() as session:
            kept = outbox.record_nudge_delivery(
                session=session,
                nudge_id=nudge_id,
                destination=delivery.key,
                holder=options.holder,
            )
        if not kept:
            raise _LostLease(nudge_id)

    def marker(delivery: Delivery) -> str:
        return marker_for(nudge_id, delivery)

    given_up: list[str] = []
    reached = set(prepared.already)
    thread_ts = None
    thread_reached = False  # the thread got this nudge now: its card must catch up
    error: BaseException | None = None
    for delivery in prepared.deliveries:
        if delivery.key in reached:
            continue
        try:
            if prepared.attempts > 1 and find_posted(
                deps.notifier, prepared.ticket, delivery, marker(delivery)
            ):
                log_event(
                    log,
                    logging.INFO,
                    "nudge already in Slack from an earlier attempt",
                    nudge_id=nudge_id,
                    destination=delivery.key,
                )
                progress(delivery, None)
                reached.add(delivery.key)
                thread_reached = thread_reached or delivery.kind is DeliveryKind.THREAD
                continue
            result = deliver_nudge(
                deps.notifier,
                prepared.facts,
                prepared.ticket,
                [delivery],
                on_delivered=progress,
                marker=marker,
            )
            thread_ts = result.thread_ts or thread_ts
            reached.add(delivery.key)
            thread_reached = thread_reached or delivery.kind is DeliveryKind.THREAD
        except _LostLease:
            report.lost_lease += 1
            log_event(log, logging.WARNING, "nudge lease lost mid-send", nudge_id=nudge_id)
            if thread_reached:
                refresh_ticket_card(deps, prepared.ticket_id, prepared.ticket.key)
            return
        except Exception as exc:  # Slack and network errors: classified below, never swallowed
            if metrics is not None:
                metrics.send_errors.inc()
            if is_permanent(exc):
                # No retry can reach this destination; the others still get the nudge.
                log_event(
                    log,
                    logging.WARNING,
                    "nudge destination given up",
                    nudge_id=nudge_id,
                    destination=delivery.key,
                    error=slack_error_code(exc),
                )
                given_up.append(f"{delivery.key}: {slack_error_code(exc)}")
                progress(delivery, None)
                continue
            error = exc
            break
    _finish(deps, options, prepared, report, metrics, error, given_up, reached, thread_ts)
    if thread_reached:
        # After the outcome is recorded: the card is a courtesy that never decides it.
        refresh_ticket_card(deps, prepared.ticket_id, prepared.ticket.key)


def _cancel(
    deps: Any,
    options: SenderOptions,
    nudge_id: int,
    cancel: _Cancel,
    report: SendReport,
    metrics: Any,
    now: datetime,
) -> None:
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
        if not _still_ours(row, options):
            report.lost_lease += 1
            return
        if reached:
            for destination in sorted(reached - cancel.already):
                outbox.record_nudge_delivery(
                    session=session, nudge_id=nudge_id, destination=destination
                )
            outbox.mark_nudge_sent(session=session, nudge_id=nudge_id, at=now)
            row.last_error = f"the rest not sent: {cancel.reason}"
            session.add(row)
        else:
            outbox.mark_nudge_cancelled(session=session, nudge_id=nudge_id, reason=cancel.reason)
    if reached:
        report.sent += 1
        log_event(
            log,
            logging.INFO,
            "nudge found sent by an earlier attempt",
            nudge_id=nudge_id,
            destinations=sorted(reached),
            reason=cancel.reason,
        )
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


def refresh_ticket_card(deps: Any, ticket_id: int, key: str) -> None:
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


def _finish(
    deps: Any,
    options: SenderOptions,
    prepared: _Prepared,
    report: SendReport,
    metrics: Any,
    error: BaseException | None,
    given_up: list[str],
    reached: set[str],
    thread_ts: str | None,
) -> None:

    now = deps.clock.now()
    label = str(prepared.facts.metric)
    if error is None:
        delivered_any = len(reached) > len(given_up)
        with deps.unit_of_work() as session:
            if delivered_any or not prepared.deliveries:
                outbox.mark_nudge_sent(
                    session=session,
                    nudge_id=prepared.nudge_id,
                    at=now,
                    slack_channel=prepared.ticket.channel_id if thread_ts else None,
                    slack_ts=thread_ts,
                )
            else:
                outbox.mark_nudge_failed(
                    session=session, nudge_id=prepared.nudge_id, error="; ".join(given_up)
                )
        if delivered_any or not prepared.deliveries:
            report.sent += 1
            if metrics is not None:
                metrics.nudges_sent.labels(metric=label).inc()
                metrics.nudge_lateness.observe(prepared.facts.lateness.total_seconds())
                if prepared.facts.lateness >= LATE_AFTER:
                    metrics.nudges_late.labels(metric=label).inc()
            log_event(
                log,
                logging.INFO,
                "nudge sent",
                nudge_id=prepared.nudge_id,
                ticket=prepared.ticket.key,
            )
        else:
            report.failed += 1
            if metrics is not None:
                metrics.nudges_failed.labels(metric=label).inc()
            log_event(
                log,
                logging.ERROR,
                "nudge failed: no destination reachable",
                nudge_id=prepared.nudge_id,
                errors=given_up,
            )
        return
    message = f"{type(error).__name__}: {slack_error_code(error) or error}"
    final = prepared.attempts >= options.max_attempts
    retry_at = None if final else options.retry_at(now, prepared.attempts)
    with deps.unit_of_work() as session:
        outbox.mark_nudge_failed(
            session=session, nudge_id=prepared.nudge_id, error=message, retry_at=retry_at
        )
    if final:
        report.failed += 1
        if metrics is not None:
            metrics.nudges_failed.labels(metric=label).inc()
        log_event(
            log,
            logging.ERROR,
            "nudge failed for good",
            nudge_id=prepared.nudge_id,
            ticket=prepared.ticket.key,
            attempts=prepared.attempts,
            error=message,
        )
    else:
        report.retried += 1
        log_event(
            log,
            logging.WARNING,
            "nudge send failed, will retry",
            nudge_id=prepared.nudge_id,
            attempts=prepared.attempts,
            retry_at=retry_at.isoformat() if retry_at else None,
            error=message,
        )


def _retry_or_fail(
    deps: Any,
    options: SenderOptions,
    nudge_id: int,
    error: str,
    report: SendReport,
    metrics: Any,
) -> None:

    now = deps.clock.now()
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
            retry_at=None if final else options.retry_at(now, row.attempts),
        )
        metric = row.metric
    if final:
        report.failed += 1
        if metrics is not None:
            metrics.nudges_failed.labels(metric=metric).inc()
        log_event(log, logging.ERROR, "nudge failed for good", nudge_id=nudge_id, error=error)
    else:
        report.retried += 1


def _still_ours(row: Nudge | None, options: SenderOptions) -> bool:
    """The row is still being sent by this sender (no other took it over after our lease)."""
    return (row is not None and row.claimed_by == options.holder
            and row.state == NudgeState.SENDING)


@dataclass(frozen=True)
class _Cancel:
    """Why a claimed row must not go out, and where an earlier attempt may have sent it."""

    reason: str
    ticket: NudgeTicket
    deliveries: tuple[Delivery, ...]
    already: frozenset[str]
    attempts: int


def _prepare(
    deps: Any, options: SenderOptions, nudge_id: int, now: datetime
) -> tuple[_Prepared | None, _Cancel | None]:
    """Read the row, its ticket and clock; (prepared, None), (None, cancel) or (None, None)."""

    with deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        if not _still_ours(row, options):
            return None, None
        ticket = ticket_repo.get_ticket(session=session, ticket_id=row.ticket_id)
        channel = workspace_repo.get_channel(
            session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
        )
        escalation = Escalation(
            channel_ids=tuple(channel.escalation_channel_ids) if channel else (),
            manager_ids=tuple(channel.manager_user_ids) if channel else (),
        )
        nudge_ticket = NudgeTicket(
            key=ticket.key,
            channel_id=ticket.channel_id,
            thread_ts=ticket.thread_ts,
            requester=ticket.requester_id,
            assignee=ticket.assignee_id,
            responders=tuple(channel.responder_user_ids) if channel else (),
            permalink=ticket.permalink,
        )
        audiences = [Audience(a) for a in row.audiences]
        deliveries = tuple(plan_deliveries(audiences, nudge_ticket, escalation))
        already = frozenset(row.delivered or ())

        def cancel(reason: str) -> tuple[None, _Cancel]:
            return None, _Cancel(reason, nudge_ticket, deliveries, already, row.attempts)

        if ticket.status == TicketStatus.RESOLVED:
            return cancel("ticket resolved")
        if ticket.status == TicketStatus.PAUSED:
            return cancel("ticket paused")
        policy = workspace_repo.get_policy(
            session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
        )
        events = event_repo.load_clock_events(session=session, ticket_id=ticket.id)
        clock = compute_clock(events, policy, now)
        metric = Metric(row.metric)
        metric_clock = clock.metrics.get(metric)
        if clock.resolved or clock.paused:
            return cancel("ticket resolved" if clock.resolved else "ticket paused")
        if metric_clock is None or not metric_clock.running:
            return cancel(f"{metric} no longer running")
        if metric_clock.cycle != row.cycle:
            return cancel(f"{metric} cycle {row.cycle} is over")
        if row.threshold < 1.0 and metric_clock.elapsed >= metric_clock.target:
            return cancel("superseded by the breach")
        if any(
            (other.threshold, other.seq) > (row.threshold, row.seq)
            for other in outbox.list_nudges(session=session, ticket_id=row.ticket_id)
            if other.metric == row.metric
            and other.cycle == row.cycle
            and other.state == NudgeState.SENT
        ):
            # A retry must not arrive after a more severe nudge: people would read it last.
            return cancel("superseded by a more severe nudge already sent")
        facts = NudgeFacts(
            metric=metric,
            threshold=row.threshold,
            seq=row.seq,
            target=metric_clock.target,
            remaining=metric_clock.remaining,
            due_at=metric_clock.due_at,
            planned_at=row.planned_at,
            now=now,
            tz=policy.calendar.tz,
        )
        prepared = _Prepared(
            nudge_id=row.id,
            ticket_id=row.ticket_id,
            facts=facts,
            ticket=nudge_ticket,
            deliveries=deliveries,
            already=already,
            attempts=row.attempts,
        )
    return prepared, None
