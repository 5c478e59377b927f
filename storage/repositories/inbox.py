"""The inbox: Slack events and interactions stored before their ack, applied by a worker.

``add_to_inbox`` is the one statement on the ack path: an INSERT that skips a key already
stored, so Slack's redelivery of an event (same event id) is settled by the database. The
worker claims pending rows under a lease (safe with several replicas), applies each in its
own unit of work together with ``mark_done``, and on an error retries with backoff, then
parks the row with its error for an operator to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col

from storage.models import InboxItem, InboxState
from storage.repositories import _sql

ERROR_LENGTH = 500
_PENDING = InboxState.PENDING.value


def add_to_inbox(
    *, session: Session, dedupe_key: str, kind: str, payload: dict[str, Any], at: datetime
) -> bool:
    """Store one event or interaction; False when its key was already stored (a redelivery)."""
    return _sql.insert_ignoring_duplicates(session, InboxItem, {
        "dedupe_key": dedupe_key, "kind": kind, "payload": payload, "state": _PENDING,
        "received_at": at, "next_attempt_at": at, "attempts": 0,
    })


def claim_inbox(
    *, session: Session, now: datetime, holder: str, limit: int, lease: timedelta
) -> list[InboxItem]:
    """Lease up to ``limit`` pending rows, oldest first (each claim counts an attempt)."""
    ids = _sql.claim_rows(
        session, InboxItem, ready=col(InboxItem.state) == _PENDING, now=now, holder=holder,
        limit=limit, lease=lease, values=_sql.counted_attempt(InboxItem),
    )
    return _sql.load_claimed(session, InboxItem, ids, "id")


def mark_done(*, session: Session, item_id: int, holder: str, at: datetime) -> bool:
    """The row was applied (in this same unit of work); False when the lease was lost."""
    result = session.exec(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.claimed_by) == holder,
               col(InboxItem.state) == _PENDING)
        .values(state=InboxState.DONE.value, done_at=at, claimed_by=None, claimed_until=None,
                last_error=None)
    )
    return result.rowcount == 1


def mark_failed(
    *, session: Session, item_id: int, error: str, retry_at: datetime | None
) -> None:
    """An attempt failed: try again at ``retry_at``, or park the row (None) with its error."""
    values: dict[str, Any] = {"last_error": error[:ERROR_LENGTH], "claimed_by": None,
                              "claimed_until": None}
    if retry_at is None:
        values["state"] = InboxState.PARKED.value
    else:
        values["next_attempt_at"] = retry_at
    session.exec(update(InboxItem).where(col(InboxItem.id) == item_id).values(**values))


@dataclass(frozen=True)
class InboxStats:
    """Depth and age of the inbox, for /healthz and /metrics."""

    pending: int
    parked: int
    oldest_pending_at: datetime | None


def inbox_stats(*, session: Session) -> InboxStats:
    """How many rows wait, how many are parked, and when the oldest waiting one arrived."""
    return InboxStats(*_sql.queue_depth(session, InboxItem, waiting=_PENDING,
                                        given_up=InboxState.PARKED.value, arrived="received_at"))


def forget_done_before(*, session: Session, before: datetime) -> int:
    """Drop applied rows older than ``before`` (Slack redelivers within minutes)."""
    result = session.exec(
        delete(InboxItem).where(col(InboxItem.state) == InboxState.DONE.value,
                                col(InboxItem.received_at) < before)
    )
    return result.rowcount


def next_attempt_at(*, session: Session) -> datetime | None:
    """When the earliest waiting row may be tried."""
    return _sql.earliest_attempt(session, InboxItem, state=_PENDING)


def due_count(*, session: Session, now: datetime) -> int:
    """Rows waiting whose time has come (being applied, or about to be)."""
    return _sql.due_count(session, InboxItem, state=_PENDING, now=now)
