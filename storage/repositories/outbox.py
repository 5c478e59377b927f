"""The outbox: every Slack write an act implies, queued in the act's own unit of work.

A command that moves a ticket adds its card update, its thread note or its answer here, in
the transaction that stores the move; the sender (bot/outbox.py) delivers them afterwards.
Each row's ``key`` names one intended write and is unique, so an act applied twice (a
redelivered event after a crash) queues its writes once. Updates of one card collapse: while
an update of a card waits unclaimed, another is not queued (the sender renders the card as
it is when it sends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, OutboxState
from storage.repositories import _sql

ERROR_LENGTH = 500
_PENDING = OutboxState.PENDING.value

CARD = "card"  # a ticket's card, posted in its thread (rendered when sent)
CARD_UPDATE = "card_update"  # the card redrawn in place (rendered when sent)
POST = "post"  # a message in a channel or thread
DM = "dm"  # a direct message to a user
FILE = "file"  # a file uploaded into a channel or a user's DM (the digest chart)
EPHEMERAL = "ephemeral"  # a message only one user sees (chat.postEphemeral)
RESPOND = "respond"  # an answer through an interaction's response_url


def queue_write(
    *,
    session: Session,
    key: str,
    kind: str,
    at: datetime,
    ticket_id: int | None = None,
    channel_id: str | None = None,
    thread_ts: str | None = None,
    user_id: str | None = None,
    text: str = "",
    blocks: Sequence[dict[str, object]] | None = None,
    response_url: str | None = None,
    file_name: str | None = None,
    file_content: bytes | None = None,
) -> bool:
    """Queue one Slack write; False when a write with this key was already queued."""
    return _sql.insert_ignoring_duplicates(session, OutboxMessage, {
        "key": key, "kind": kind, "ticket_id": ticket_id, "channel_id": channel_id,
        "thread_ts": thread_ts, "user_id": user_id, "text": text,
        "blocks": None if blocks is None else list(blocks),
        "response_url": response_url, "file_name": file_name, "file_content": file_content,
        "state": _PENDING, "attempts": 0, "next_attempt_at": at, "created_at": at,
    })


def queue_card_update(*, session: Session, ticket_id: int, version: int, at: datetime,
                      because: str | None = None) -> bool:
    """Queue a redraw of a ticket's card unless one is already waiting to be sent.

    The key is the ticket's version (a change re-applied after a crash redraws once), or
    `because` for a redraw that time alone asks for (a threshold passed).
    """
    waiting = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.ticket_id == ticket_id,
            col(OutboxMessage.kind).in_((CARD, CARD_UPDATE)),
            OutboxMessage.state == _PENDING,
            col(OutboxMessage.claimed_by).is_(None),
        ).limit(1)
    ).first()
    if waiting is not None:
        return False  # that one renders the card as it will be then
    reason = because or f"v{version}"
    return queue_write(session=session, key=f"card-update:{ticket_id}:{reason}",
                       kind=CARD_UPDATE, ticket_id=ticket_id, at=at)


def claim_writes(
    *, session: Session, now: datetime, holder: str, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Lease up to ``limit`` due writes, oldest first (each claim counts an attempt)."""
    ids = _sql.claim_rows(
        session, OutboxMessage, ready=col(OutboxMessage.state) == _PENDING, now=now,
        holder=holder, limit=limit, lease=lease, values=_sql.counted_attempt(OutboxMessage),
    )
    return _sql.load_claimed(session, OutboxMessage, ids, "id")


def _finish(session: Session, write_id: int, holder: str, **values: Any) -> bool:
    result = session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == write_id, col(OutboxMessage.claimed_by) == holder,
               col(OutboxMessage.state) == _PENDING)
        .values(claimed_by=None, claimed_until=None, **values)
    )
    return result.rowcount == 1


def mark_sent(
    *, session: Session, write_id: int, holder: str, at: datetime, slack_ts: str | None
) -> bool:
    """The write reached Slack; False when the lease was lost meanwhile."""
    return _finish(session, write_id, holder, state=OutboxState.SENT.value, sent_at=at,
                   slack_ts=slack_ts, last_error=None)


def mark_retry(
    *, session: Session, write_id: int, holder: str, error: str, retry_at: datetime
) -> bool:
    """The attempt failed in a way a later one may not: try again at ``retry_at``."""
    return _finish(session, write_id, holder, next_attempt_at=retry_at,
                   last_error=error[:ERROR_LENGTH])


def mark_failed(*, session: Session, write_id: int, holder: str, error: str) -> bool:
    """Given up (Slack refused for good, or it kept failing past the deadline)."""
    return _finish(session, write_id, holder, state=OutboxState.FAILED.value,
                   last_error=error[:ERROR_LENGTH])


def collapse_card_updates(*, session: Session, ticket_id: int, sent_id: int) -> int:
    """Older waiting updates of a card that ``sent_id`` just drew are done with it."""
    result = session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.ticket_id) == ticket_id, col(OutboxMessage.kind) == CARD_UPDATE,
               col(OutboxMessage.state) == _PENDING, col(OutboxMessage.claimed_by).is_(None),
               col(OutboxMessage.id) < sent_id)
        .values(state=OutboxState.COLLAPSED.value)
    )
    return result.rowcount


def card_pending(*, session: Session, ticket_id: int) -> bool:
    """Whether the ticket's card itself still waits to be posted."""
    return session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == CARD,
            OutboxMessage.state == _PENDING,
        ).limit(1)
    ).first() is not None


@dataclass(frozen=True)
class OutboxStats:
    """Depth and age of the outbox, for /healthz and /metrics."""

    pending: int
    failed: int
    oldest_pending_at: datetime | None


def outbox_stats(*, session: Session) -> OutboxStats:
    """How many writes wait, how many failed for good, when the oldest waiting one was queued."""
    return OutboxStats(*_sql.queue_depth(session, OutboxMessage, waiting=_PENDING,
                                         given_up=OutboxState.FAILED.value, arrived="created_at"))


def next_write_at(*, session: Session) -> datetime | None:
    """When the earliest waiting write may be tried."""
    return _sql.earliest_attempt(session, OutboxMessage, state=_PENDING)


def due_count(*, session: Session, now: datetime) -> int:
    """Writes waiting whose time has come (being delivered, or about to be)."""
    return _sql.due_count(session, OutboxMessage, state=_PENDING, now=now)


def forget_delivered_before(*, session: Session, before: datetime) -> int:
    """Drop writes sent (or collapsed) before `before`; failed ones stay for a person to read."""
    result = session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.state).in_((OutboxState.SENT.value, OutboxState.COLLAPSED.value)),
            col(OutboxMessage.created_at) < before)
    )
    return result.rowcount
