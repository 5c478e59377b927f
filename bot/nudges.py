"""Nudge messages: who hears a nudge, what it says, and delivering it through the notifier.

Rendering is pure (plain data in, text + Block Kit out) so the wording is tested without
Slack; `deliver_nudge` is the only function here that talks to the network, and it does so
through the notifier seam only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from commands import lifecycle
from sla.clock import compute_clock
from sla.durations import format_business_duration, format_duration
from sla.policy import Audience, Metric
from storage.models import Nudge, NudgeState, TicketStatus
from storage.repositories import nudges as outbox
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)


def log_event(
    logger: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields: Any
) -> None:
    """One structured log line: `event key=value ...` as text, and the fields as `extra`."""
    text = event + "".join(f" {key}={value}" for key, value in fields.items())
    logger.log(level, text, exc_info=exc_info, extra={"event": event, **fields})


METRIC_LABELS = {
    Metric.FIRST_RESPONSE: "First response",
    Metric.NEXT_RESPONSE: "Next response",
    Metric.RESOLUTION: "Resolution",
}

# A nudge counts as late (and says so) when it goes out this long after its planned instant.
LATE_AFTER = timedelta(seconds=60)


class DeliveryKind(StrEnum):
    """How one recipient of a nudge is reached."""

    THREAD = "thread"
    CHANNEL = "channel"
    DM = "dm"


@dataclass(frozen=True)
class NudgeTicket:
    """The ticket facts a nudge message needs (a projection of the ticket row)."""

    key: str
    channel_id: str
    thread_ts: str
    requester: str | None = None
    assignee: str | None = None
    responders: tuple[str, ...] = ()
    permalink: str | None = None

    @property
    def mentions(self) -> tuple[str, ...]:
        """Who a thread nudge pings: the assignee, else the channel's responders."""
        return (self.assignee,) if self.assignee else self.responders


@dataclass(frozen=True)
class Escalation:
    """Where a channel's breaches go: escalation channels and managers to DM."""

    channel_ids: tuple[str, ...] = ()
    manager_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NudgeFacts:
    """What to say: the metric, where it stands at send time, and when it was meant to go out."""

    metric: Metric
    threshold: float
    seq: int
    target: timedelta
    remaining: timedelta
    due_at: datetime | None
    planned_at: datetime
    now: datetime
    tz: str = "UTC"

    @property
    def is_breach(self) -> bool:
        """True for the breach nudge and the re-escalations after it."""
        return self.threshold >= 1.0

    @property
    def lateness(self) -> timedelta:
        """How long after its planned instant this nudge goes out."""
        return max(self.now - self.planned_at, timedelta(0))


@dataclass(frozen=True)
class Delivery:
    """One Slack destination of a nudge: a thread reply, a channel post or a DM."""

    kind: DeliveryKind
    target: str
    audience: Audience

    @property
    def key(self) -> str:
        """Stable name of this destination, used to remember which ones already got the nudge."""
        return f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class NudgeMessage:
    """Rendered nudge: fallback text (notifications, screen readers) and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


def plan_deliveries(
    audiences: Iterable[Audience], ticket: NudgeTicket, escalation: Escalation
) -> list[Delivery]:
    """Destinations for a nudge's audiences; audiences with nobody configured reach nobody."""
    wanted = set(audiences)
    out: list[Delivery] = []
    if Audience.THREAD in wanted:
        out.append(Delivery(DeliveryKind.THREAD, ticket.channel_id, Audience.THREAD))
    if Audience.ASSIGNEE in wanted and ticket.assignee:
        out.append(Delivery(DeliveryKind.DM, ticket.assignee, Audience.ASSIGNEE))
    if Audience.ESCALATION_CHANNEL in wanted:
        out.extend(
            Delivery(DeliveryKind.CHANNEL, channel, Audience.ESCALATION_CHANNEL)
            for channel in escalation.channel_ids
        )
    if Audience.MANAGERS in wanted:
        out.extend(
            Delivery(DeliveryKind.DM, user, Audience.MANAGERS) for user in escalation.manager_ids
        )
    # One message per destination even if a person is both assignee and manager.
    seen: set[str] = set()
    unique = []
    for delivery in out:
        if delivery.key not in seen:
            seen.add(delivery.key)
            unique.append(delivery)
    return unique


def zone_label(tz: str) -> str:
    """Short human name of an IANA zone: 'Europe/Berlin' -> 'Berlin', 'UTC' -> 'UTC'."""
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def format_instant(at: datetime, tz: str, now: datetime) -> str:
    """'10:30 Berlin' today, 'Tue 24 Nov 10:30 Berlin' on another local day."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M} {zone_label(tz)}"
    return f"{local:%a} {local.day} {local:%b %H:%M} {zone_label(tz)}"


def thread_permalink(workspace_url: str | None, channel_id: str, thread_ts: str) -> str | None:
    """Slack's permalink for a message from the workspace URL that auth.test returns."""
    if not workspace_url:
        return None
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    return f"{base}archives/{channel_id}/p{thread_ts.replace('.', '')}"


def headline(facts: NudgeFacts) -> str:
    """The sentence that says where the metric stands, in business time."""
    label = METRIC_LABELS[facts.metric]
    due = format_instant(facts.due_at, facts.tz, facts.now) if facts.due_at else None
    if not facts.is_breach:
        percent = round(facts.threshold * 100)
        left = format_business_duration(max(facts.remaining, timedelta(0)))
        when = f" ({due})" if due else ""
        return (
            f"{label} due in {left} of business time{when}: "
            f"{percent}% of the {format_business_duration(facts.target)} target is used."
        )
    overdue = format_business_duration(max(-facts.remaining, timedelta(0)))
    since = f" at {due}" if due else ""
    if facts.seq == 0 and -facts.remaining < timedelta(minutes=1):
        return f"{label} target of {format_business_duration(facts.target)} breached{since}."
    if facts.seq > 0:
        return (
            f"{label} target still breached: overdue by {overdue} of business time "
            f"(reminder {facts.seq})."
        )
    return (
        f"{label} target of {format_business_duration(facts.target)} breached{since}: "
        f"overdue by {overdue} of business time."
    )


def marker_for(nudge_id: int, delivery: Delivery) -> str:
    """The block_id that makes one nudge's message to one destination findable in Slack."""
    return f"slabot-nudge:{nudge_id}:{delivery.key}"


def render_nudge(
    facts: NudgeFacts, ticket: NudgeTicket, delivery: Delivery, *, marker: str | None = None
) -> NudgeMessage:
    """The message one destination receives for one nudge (`marker` becomes its block_id)."""
    icon = ":rotating_light:" if facts.is_breach else ":hourglass_flowing_sand:"
    body = f"{icon} *{ticket.key}* {headline(facts)}"
    if delivery.kind is DeliveryKind.THREAD and ticket.mentions:
        body += " " + " ".join(f"<@{user}>" for user in ticket.mentions)
    context: list[str] = []
    if delivery.kind is not DeliveryKind.THREAD:
        where = f"in <#{ticket.channel_id}>"
        link = f"<{ticket.permalink}|Open the thread>" if ticket.permalink else None
        context.append(f"{where}: {link}" if link else where)
    if facts.lateness >= LATE_AFTER:
        context.append(f"sent {format_duration(facts.lateness)} late: the bot was offline")
    text = body + "".join(f"\n{line}" for line in context)
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": body}}
    if marker:
        section["block_id"] = marker
    blocks: list[dict[str, Any]] = [section]
    if context:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": line} for line in context],
            }
        )
    return NudgeMessage(text=text, blocks=blocks)


class NudgeNotifier(Protocol):
    """The part of the bot's notifier a nudge needs (see commands/deps.py)."""

    def post_thread_reply(self, channel: str, thread_ts: str, text: str, **kw: Any) -> Any: ...

    def post_message(self, channel: str, text: str, **kw: Any) -> Any: ...

    def dm_user(self, user: str, text: str, **kw: Any) -> Any: ...


@dataclass(frozen=True)
class DeliveryReport:
    """What happened to one nudge: destinations reached now, and the thread message ts."""

    delivered: tuple[str, ...]
    thread_ts: str | None


def _ts_of(response: Any) -> str | None:
    if response is None:
        return None
    if isinstance(response, str):
        return response
    getter = getattr(response, "get", None)
    return getter("ts") if callable(getter) else getattr(response, "ts", None)


def deliver_nudge(
    notifier: NudgeNotifier,
    facts: NudgeFacts,
    ticket: NudgeTicket,
    deliveries: Sequence[Delivery],
    *,
    already: Iterable[str] = (),
    on_delivered: Callable[[Delivery, str | None], None] | None = None,
    marker: Callable[[Delivery], str] | None = None,
) -> DeliveryReport:
    """Send the nudge to each destination not in `already`; raises on the first failure.

    `on_delivered` runs after each successful call so the caller can record progress at
    once: a crash or error later in the list never repeats a destination already reached.
    """
    done = set(already)
    reached: list[str] = []
    thread_ts = None
    for delivery in deliveries:
        if delivery.key in done:
            continue
        message = render_nudge(facts, ticket, delivery, marker=marker(delivery) if marker else None)
        if delivery.kind is DeliveryKind.THREAD:
            response = notifier.post_thread_reply(
                ticket.channel_id, ticket.thread_ts, message.text, blocks=message.blocks
            )
        elif delivery.kind is DeliveryKind.CHANNEL:
            response = notifier.post_message(delivery.target, message.text, blocks=message.blocks)
        else:
            response = notifier.dm_user(delivery.target, message.text, blocks=message.blocks)
        ts = _ts_of(response)
        if delivery.kind is DeliveryKind.THREAD:
            thread_ts = ts
        reached.append(delivery.key)
        log_event(
            log,
            logging.INFO,
            "nudge delivered",
            ticket=ticket.key,
            metric=str(facts.metric),
            threshold=facts.threshold,
            seq=facts.seq,
            destination=delivery.key,
        )
        if on_delivered is not None:
            on_delivered(delivery, ts)
    return DeliveryReport(delivered=tuple(reached), thread_ts=thread_ts)


# --------------------------------------------------------------------------- the sender


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


def _slack_error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        return response.get("error")
    except AttributeError:
        return None


def is_permanent(exc: BaseException) -> bool:
    """True for Slack answers that a retry cannot change (unknown channel, revoked token...)."""
    return _slack_error_code(exc) in PERMANENT_SLACK_ERRORS


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
                    error=_slack_error_code(exc),
                )
                given_up.append(f"{delivery.key}: {_slack_error_code(exc)}")
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
        metrics.nudges_cancelled.inc()
    log_event(log, logging.INFO, "nudge cancelled", nudge_id=nudge_id, reason=cancel.reason)


def refresh_ticket_card(deps: Any, ticket_id: int, key: str) -> None:
    """Redraw a ticket's card with its clock now (a threshold just passed); never raises.

    Without this the card keeps saying "in 1 h" long after a breach: nothing else moves it
    when only time passes. Same clock and time zone as the ticket service's own refreshes.
    """
    try:
        now = deps.clock.now()
        with deps.unit_of_work() as session:
            ticket = ticket_repo.get_ticket(session=session, ticket_id=ticket_id)
            if not ticket.card_ts:
                return
            policy = workspace_repo.get_policy(
                session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
            )
            events = ticket_repo.load_clock_events(session=session, ticket_id=ticket.id)
            clock = compute_clock(events, policy, now)
            tz = workspace_repo.get_workspace_by_id(
                session=session, workspace_id=ticket.workspace_id
            ).tz
        tz = lifecycle.user_tz(deps, ticket.requester_id, tz)
        lifecycle.refresh_card(deps, ticket, clock, tz, now)
    except Exception as exc:  # the nudge went out; a stale card is no reason to retry it
        log_event(
            log,
            logging.WARNING,
            "ticket card not refreshed after a nudge",
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
    message = f"{type(error).__name__}: {_slack_error_code(error) or error}"
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
        events = ticket_repo.load_clock_events(session=session, ticket_id=ticket.id)
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
