"""Intake in batches: channel messages become tickets with one database write per batch.

Every top-level message in a tracked channel is a ticket, and a busy channel (an outage: a
hundred people typing "checkout is down") sends them in bursts. Opening each ticket in its
own unit of work makes the listener threads queue on SQLite's single writer, and a
transaction per ticket, plus one more for its card's ts, is what limits intake.

`IntakeBatcher` takes requests from the event listeners (they return at once) and one
writer thread turns whatever has queued up into tickets in a single unit of work: event ids
recorded, workspace, channel and policy read once, each ticket numbered and inserted (one
savepoint each, so one duplicate never spoils the batch). The cards go out in parallel on a
small pool, and their ts are stored by the writer with its next batch. While a batch is being
written, the next one gathers: the busier the channel, the bigger the batches (group commit).

Delivery guarantees are those of Bolt's own listeners: Slack has its ack before the work
runs, so a crash loses what is queued in memory; `stop()` drains the queue first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands import lifecycle
from commands.deps import Deps
from storage.repositories import tickets as ticket_repo
from storage.repositories.jobs import record_event_ids

log = logging.getLogger(__name__)

# How long the writer lets a burst gather before writing it (see IntakeBatcher._run).
LINGER_SECONDS = 0.05

# Message subtypes written by a person; everything else (edits, joins, bots...) is not a request.
HUMAN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def is_human_message(message: dict[str, Any]) -> bool:
    """A message a person wrote (not a bot, an edit, a join or another system message)."""
    return (
        message.get("subtype") in HUMAN_SUBTYPES
        and not message.get("bot_id")
        and bool(message.get("user"))
    )


def is_thread_reply_event(message: dict[str, Any]) -> bool:
    """A reply inside a thread (a thread's first message has thread_ts == ts)."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


@dataclass(frozen=True)
class _CardDone:
    ticket_id: int
    card_ts: str | None


class PendingRequests:
    """`wait_idle` and `backlog` of an intake queue that counts, under `_cond`, the requests
    it took and has not finished (`_pending`)."""

    _cond: threading.Condition
    _pending: int

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every submitted request is finished; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    @property
    def backlog(self) -> int:
        """Requests submitted and not finished yet."""
        with self._cond:
            return self._pending

    def health(self) -> dict[str, Any]:
        """Intake's part of /healthz ("ok" False when it cannot take requests)."""
        return {"ok": True, "intake": {"mode": "thread", "backlog": self.backlog}}


class IntakeBatcher(PendingRequests):
    """Queue of ticket requests written in batches by one thread; see the module docstring."""

    def __init__(self, deps: Deps, *, max_batch: int = 200, card_workers: int = 4,
                 linger: float = LINGER_SECONDS,
                 on_finished: Callable[[int], None] | None = None) -> None:
        self.deps = deps
        self._on_finished = on_finished  # told how many requests finished (IntakeProcess)
        self.max_batch = max_batch
        self.linger = linger
        self._waiting_since: float | None = None  # when the oldest unwritten work arrived
        self._cond = threading.Condition()
        self._requests: deque[lifecycle.IntakeRequest] = deque()
        self._cards: list[_CardDone] = []
        self._pending = 0  # requests submitted and not yet finished (card ts stored)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._card_workers = card_workers
        self._card_pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> IntakeBatcher:
        """Start the writer thread (idempotent)."""
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._card_pool = ThreadPoolExecutor(
                    self._card_workers, thread_name_prefix="intake-card"
                )
                self._thread = threading.Thread(
                    target=self._run, name="intake-writer", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued (tickets stored, cards posted), then stop the writer."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.error("intake writer still busy after %s s; %d requests left",
                          timeout, self.backlog)
        pool, self._card_pool = self._card_pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._cond:
            self._thread = None

    def submit(self, request: lifecycle.IntakeRequest) -> None:
        """Queue a request; the caller (a Bolt listener) returns at once."""
        with self._cond:
            if self._thread is None or self._stopping:
                running = False
            else:
                running = True
                self._pending += 1
                self._requests.append(request)
                if self._waiting_since is None:
                    self._waiting_since = time.monotonic()
                self._cond.notify_all()
        if not running:  # not started, or shutting down: do it here, one by one
            self._open_one(request)

    # ------------------------------------------------------------------ the writer
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._requests or self._cards or (self._stopping and not self._pending)
                )
                if not self._requests and not self._cards:
                    return  # stopping, and everything is done
                if self.linger > 0 and self._waiting_since is not None:
                    # Group commit: what arrives within `linger` of the oldest waiting work
                    # joins its batch. A transaction's fixed cost (lookups, statements,
                    # commit) is several tickets' worth; a lone message waits 50 ms more.
                    self._cond.wait_for(
                        lambda: len(self._requests) >= self.max_batch or self._stopping,
                        self._waiting_since + self.linger - time.monotonic(),
                    )
                self._waiting_since = None
                batch = [self._requests.popleft()
                         for _ in range(min(self.max_batch, len(self._requests)))]
                cards, self._cards = self._cards, []
                if self._requests:  # more than one batch waited: no lingering for the rest
                    self._waiting_since = time.monotonic() - self.linger
            try:
                outcomes = self._write(batch, cards)
            except Exception:  # never let the writer die: the requests are retried one by one
                log.exception("intake batch of %d failed; opening its tickets one by one",
                              len(batch))
                self._store_cards_one_by_one(cards)
                for request in batch:
                    self._open_one(request, counted=True)
                continue
            self._announce(outcomes, len(batch), len(cards))

    def _write(self, batch: list[lifecycle.IntakeRequest], cards: list[_CardDone]
               ) -> list[lifecycle.Stored | None]:
        """One unit of work: the cards' ts posted since the last batch, and the new tickets."""
        now = self.deps.clock.now()
        with self.deps.unit_of_work() as session:
            if cards:
                ticket_repo.set_card_ts_many(
                    session=session,
                    cards={c.ticket_id: c.card_ts for c in cards if c.card_ts},
                )
            ids = [r.event_id for r in batch if r.event_id]
            fresh = record_event_ids(session=session, event_ids=ids, at=now) if ids else set()
            lookups = lifecycle.IntakeLookups()
            plans: list[lifecycle.TicketPlan] = []
            for request in batch:
                if request.event_id:
                    if request.event_id not in fresh:  # Slack's redelivery of an earlier one
                        log.info("duplicate Slack event %s acknowledged without processing",
                                 request.event_id)
                        continue
                    fresh.discard(request.event_id)  # recorded above, all in one statement
                plan = lifecycle.plan_ticket(self.deps, session, request, now, lookups,
                                             record_event=False)
                if plan is not None:
                    plans.append(plan)
            outcomes = lifecycle.store_tickets(session, plans) if plans else []
        return outcomes

    def _announce(self, outcomes: list[lifecycle.Stored | None], requests: int, cards: int
                  ) -> None:
        """After the commit: the scheduler is woken once, the new cards go to the pool."""
        stored = [o for o in outcomes if o is not None and o.result.created]
        self._finished(requests - len(stored) + cards)
        looks = [s.first_look for s in stored if s.first_look is not None]
        if looks:
            try:
                self.deps.wake_scheduler(min(looks))
            except Exception:  # the scheduler's safety sweep finds the tickets anyway
                log.exception("could not wake the scheduler after an intake batch")
        now = self.deps.clock.now()
        pool = self._card_pool
        for item in stored:
            try:
                if pool is None:
                    raise RuntimeError("no card pool")
                pool.submit(self._post_card, item, now)
            except RuntimeError:  # stop() gave up waiting: post here rather than drop the card
                self._post_card(item, now)

    def _post_card(self, stored: lifecycle.Stored, now: datetime) -> None:
        ticket = stored.result.ticket
        card_ts = None
        try:
            # The writer woke the scheduler for the whole batch already.
            card_ts = lifecycle.announce_ticket(
                self.deps, lifecycle.Stored(stored.result, stored.tz, None), now,
                store_card=False,
            )
        except Exception:
            log.exception("card of ticket %s could not be posted", ticket.key)
        with self._cond:
            self._cards.append(_CardDone(ticket.id, card_ts))
            if self._waiting_since is None:
                self._waiting_since = time.monotonic()
            self._cond.notify_all()

    def _finished(self, count: int) -> None:
        if count:
            with self._cond:
                self._pending -= count
                self._cond.notify_all()
            if self._on_finished is not None:
                self._on_finished(count)

    # ------------------------------------------------------------------ fallbacks
    def _open_one(self, request: lifecycle.IntakeRequest, *, counted: bool = False) -> None:
        try:
            lifecycle.open_request(self.deps, request)
        except Exception:
            log.exception("ticket for message %s in %s could not be opened",
                          request.message_ts, request.channel_id)
        finally:
            if counted:
                self._finished(1)

    def _store_cards_one_by_one(self, cards: list[_CardDone]) -> None:
        for card in cards:
            try:
                if card.card_ts:
                    with self.deps.unit_of_work() as session:
                        ticket_repo.set_card_ts(session=session, ticket_id=card.ticket_id,
                                                card_ts=card.card_ts)
            except Exception:
                log.exception("card ts of ticket %s could not be stored", card.ticket_id)
            finally:
                self._finished(1)

