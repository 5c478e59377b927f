"""The inbox: Slack events and interactions stored before their ack, then applied.

`store_before_ack` is a Bolt middleware. For every request that creates or moves a ticket
(a message or reaction event, a card button, the message shortcut) it writes the body to
the inbox in one INSERT that also dedupes it (Slack's event id; an interaction's trigger id
and action time) and answers Slack only after that commit: 200 when stored (or already
stored), 503 when the database refused, so Slack delivers it again. Nothing else runs on the
ack path.

`drain_inbox` is the worker: it leases pending rows (any replica may drain, each row goes to
one), and applies each in one unit of work with its `mark_done`: the ticket, its events and
the Slack writes it implies (queued in the outbox) commit together or not at all. Slack is
only read before that unit opens (the message a `:ticket:` points at). A row that fails is
retried with backoff, then parked with its error, never blocking the rows behind it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import BoltContext, BoltResponse

from bot import listeners
from bot.metrics import SchedulerMetrics
from bot.retry import backoff
from commands.deps import Deps
from commands.ids import Event
from storage.repositories import inbox as inbox_repo
from storage.repositories import outbox as outbox_repo

log = logging.getLogger(__name__)

KIND_EVENT = "event"
KIND_INTERACTION = "interaction"

# Attempts before a row is parked, and the backoff between them (doubling, capped).
MAX_ATTEMPTS = 8
BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)
LEASE = timedelta(minutes=2)


def inbox_key(body: object) -> tuple[str, str] | None:
    """(dedupe key, kind) when `body` belongs in the inbox, else None (Bolt handles it)."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or event.get("type") not in listeners.INBOX_EVENTS:
            return None
        event_id = body.get("event_id")
        return (f"event:{event_id}", KIND_EVENT) if isinstance(event_id, str) and event_id \
            else None
    if kind == "block_actions":
        found = body.get("actions")
        action = found[0] if isinstance(found, list) and found else None
        if not isinstance(action, dict) or action.get("action_id") not in listeners.INBOX_ACTIONS:
            return None
        return (f"action:{body.get('trigger_id')}:{action.get('action_ts')}",
                KIND_INTERACTION)
    if kind == "message_action" and body.get("callback_id") in listeners.INBOX_SHORTCUTS:
        return f"shortcut:{body.get('trigger_id')}:{body.get('action_ts')}", KIND_INTERACTION
    return None


Middleware = Callable[[BoltContext, dict[str, Any], Callable[[], BoltResponse]], BoltResponse]


def store_before_ack(deps: Deps, metrics: SchedulerMetrics | None = None) -> Middleware:
    """The Bolt middleware described in the module docstring (it also puts `deps` in the
    context, where Bolt hands it to listeners by parameter name)."""

    def middleware(context: BoltContext, body: dict[str, Any],
                   next: Callable[[], BoltResponse]) -> BoltResponse:
        context["deps"] = deps
        found = inbox_key(body)
        if found is None:
            return next()
        key, kind = found
        if kind == KIND_EVENT and not listeners.wants_event(body["event"]):
            return BoltResponse(status=200, body="")  # an edit, a bot post, another emoji
        try:
            with deps.unit_of_work() as session:
                added = inbox_repo.add_to_inbox(session=session, dedupe_key=key, kind=kind,
                                                payload=body, at=deps.clock.now())
        except Exception as exc:  # a full disk, a database that went away
            log.warning("could not store %s before acking (%s): Slack will send it again",
                        key[:80], exc.__class__.__name__)
            if metrics is not None:
                metrics.inbox_refused.inc()
            return BoltResponse(status=503, body="")
        if added:
            deps.wake_inbox()
        else:
            log.info("duplicate delivery %s acknowledged without processing", key[:80])
        return BoltResponse(status=200, body="")

    return middleware


@dataclass(frozen=True)
class _Item:
    id: int
    key: str
    payload: dict[str, Any]
    attempts: int


class OutboxReplies:
    """`respond(text=...)` for work the inbox worker applies: each answer is an outbox write
    in the worker's unit of work, keyed by the inbox row (applied twice, answered once)."""

    def __init__(self, deps: Deps, key: str, *, response_url: str | None,
                 channel_id: str | None, user_id: str | None) -> None:
        self._deps = deps
        self._key = key
        self._response_url = response_url
        self._channel_id = channel_id
        self._user_id = user_id
        self._count = itertools.count(1)

    def __call__(self, text: str = "", **_: object) -> None:
        key = f"reply:{self._key}:{next(self._count)}"
        with self._deps.unit_of_work() as session:
            if self._response_url:
                outbox_repo.queue_write(session=session, key=key, kind=outbox_repo.RESPOND,
                                        response_url=self._response_url, text=text,
                                        at=self._deps.clock.now())
            elif self._channel_id and self._user_id:
                outbox_repo.queue_write(session=session, key=key, kind=outbox_repo.EPHEMERAL,
                                        channel_id=self._channel_id, user_id=self._user_id,
                                        text=text, at=self._deps.clock.now())


def _replies_for(deps: Deps, item: _Item) -> OutboxReplies:
    """Where answers to this row go: its response_url, else privately to the person in the
    channel (a reaction has no response_url)."""
    body = item.payload
    event = _dict(body.get("event"))
    channel = _dict(body.get("channel")).get("id") or event.get("channel") or _dict(
        event.get("item")).get("channel")
    user = _dict(body.get("user")).get("id") or event.get("user")
    url = body.get("response_url")
    return OutboxReplies(deps, item.key, response_url=url if isinstance(url, str) else None,
                         channel_id=channel if isinstance(channel, str) else None,
                         user_id=user if isinstance(user, str) else None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _apply(deps: Deps, item: _Item, prepared: dict[str, Any] | None) -> None:
    """Run the handler of one inbox row (inside the worker's unit of work)."""
    body = item.payload
    respond = _replies_for(deps, item)
    kind = body.get("type")
    if kind == "event_callback":
        event = body["event"]
        if event.get("type") == Event.MESSAGE.value:
            listeners.on_message(event, body, deps)
        else:
            listeners.on_reaction_added(event, body, deps, respond=respond, message=prepared)
    elif kind == "block_actions":
        handler = listeners.INBOX_ACTIONS[body["actions"][0]["action_id"]]
        handler(body, respond, deps)
    else:
        listeners.INBOX_SHORTCUTS[body["callback_id"]](body, respond, deps)


def _prepare(deps: Deps, item: _Item) -> dict[str, Any] | None:
    """What a row needs from Slack, read before its unit of work opens."""
    body = item.payload
    if body.get("type") == "event_callback":
        return listeners.prepare_event(deps, body["event"])
    return None


def retry_at(now: datetime, attempts: int) -> datetime | None:
    """When a row that failed its `attempts`-th time is tried again; None: park it."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + backoff(BACKOFF, attempts, MAX_BACKOFF)


class _LostLease(Exception):
    """Another worker took the row over; this attempt's work is rolled back."""


def apply_item(deps: Deps, item: _Item, holder: str,
               metrics: SchedulerMetrics | None = None) -> str:
    """Apply one row: "done", "retry", "parked" or "lost" (another worker has it)."""
    try:
        prepared = _prepare(deps, item)
        with deps.unit_of_work() as session:
            _apply(deps, item, prepared)
            if not inbox_repo.mark_done(session=session, item_id=item.id, holder=holder,
                                        at=deps.clock.now()):
                raise _LostLease(item.key)
        result = "done"
    except _LostLease:
        log.warning("inbox row %s was taken over by another worker", item.id)
        result = "lost"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        again = retry_at(deps.clock.now(), item.attempts)
        with deps.unit_of_work() as session:
            inbox_repo.mark_failed(session=session, item_id=item.id, error=error, retry_at=again)
        if again is None:
            log.error("inbox row %s (%s) parked after %d attempts: %s", item.id,
                      item.key[:80], item.attempts, error, exc_info=exc)
            result = "parked"
        else:
            log.warning("inbox row %s failed (attempt %d), retried at %s: %s", item.id,
                        item.attempts, again.isoformat(), error)
            result = "retry"
    if metrics is not None:
        metrics.inbox_applied.labels(result=result).inc()
    return result


def drain_inbox(deps: Deps, *, holder: str, limit: int = 50,
                metrics: SchedulerMetrics | None = None) -> int:
    """Claim and apply one batch of due rows; returns how many were claimed."""
    with deps.unit_of_work() as session:
        rows = inbox_repo.claim_inbox(session=session, now=deps.clock.now(), holder=holder,
                                      limit=limit, lease=LEASE)
        items = [_Item(r.id, r.dedupe_key, r.payload, r.attempts) for r in rows
                 if r.id is not None]
    results = [apply_item(deps, item, holder, metrics) for item in items]
    if "done" in results:
        # The units the commands opened joined the worker's, so their own wake-ups came
        # before the commit: the sender and the planner look again now.
        deps.wake_outbox()
        deps.wake_scheduler()
    return len(items)


def next_inbox_attempt_at(deps: Deps) -> datetime | None:
    """When the earliest waiting row may be tried (a failed one waits out its backoff)."""
    with deps.unit_of_work() as session:
        return inbox_repo.next_attempt_at(session=session)
