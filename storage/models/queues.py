"""Work rows taken under a lease: nudges, the inbox, the outbox, and run-once job slots.

A lease is ``claimed_by`` + ``claimed_until``: a claimed row is invisible to other claimers
until the lease runs out, so a crashed process only delays work, never loses it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key, instant, utcnow


class NudgeState(StrEnum):
    """Outbox state of one nudge: pending -> sending -> sent | failed; or cancelled/skipped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class Nudge(SQLModel, table=True):
    """Outbox row: one nudge (or re-escalation ``seq`` > 0) of one metric of one ticket."""

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle", "threshold", "seq"),
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')",
            name="state",
        ),
        Index(None, "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = foreign_key("tickets.id")
    metric: str = Field(nullable=False)
    cycle: int = Field(default=0, nullable=False)  # next-response cycle; 0 otherwise
    threshold: float = Field(nullable=False)
    seq: int = Field(default=0, nullable=False)
    planned_at: datetime = instant(nullable=False)
    next_attempt_at: datetime = instant(nullable=False)
    state: str = Field(default=NudgeState.PENDING.value, nullable=False)
    late: bool = Field(default=False, nullable=False)
    audiences: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    # Destinations already reached ("thread:C1", "dm:U1"): a retry after a failure or a
    # crash part-way through a nudge never repeats them.
    delivered: list[str] | None = Field(default=None, sa_type=JSON, nullable=True)
    # Destinations no retry can reach, with Slack's reason ({"dm:U1": "user_disabled"}):
    # skipped by retries, never counted as reached.
    given_up: dict[str, str] | None = Field(default=None, sa_type=JSON, nullable=True)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = instant()
    slack_channel: str | None = None
    slack_ts: str | None = None
    sent_at: datetime | None = instant()
    created_at: datetime = instant(nullable=False, default=utcnow)
    updated_at: datetime = instant(nullable=False, default=utcnow)


class InboxState(StrEnum):
    """Where an inbox row stands: waiting (or retrying), applied, or parked after errors."""

    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"


class InboxItem(SQLModel, table=True):
    """One Slack event or interaction, stored before Slack got its ack (the inbox).

    ``dedupe_key`` (the Slack event id, or the interaction's trigger id) is unique, so a
    redelivery is settled by the INSERT that would store it twice.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'done', 'parked')", name="state"),
        Index(None, "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, nullable=False)
    kind: str = Field(nullable=False)  # "event" or "interaction"
    payload: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    state: str = Field(default=InboxState.PENDING.value, nullable=False)
    received_at: datetime = instant(nullable=False)
    next_attempt_at: datetime = instant(nullable=False)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = instant()
    done_at: datetime | None = instant()


class OutboxState(StrEnum):
    """Where a Slack write stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    COLLAPSED = "collapsed"  # a newer update of the same card carried it


class OutboxMessage(SQLModel, table=True):
    """One intended Slack write (a card, a card update, a note, a DM, an answer): the outbox.

    ``key`` names the intent and is unique, so an act retried after a crash queues its writes
    once; the sender marks each message it posts with the key (message metadata) and looks
    for it before posting again when an earlier answer was lost.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'collapsed')", name="state"
        ),
        Index(None, "state", "next_attempt_at"),
        Index(None, "ticket_id", "kind", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, nullable=False)
    kind: str = Field(nullable=False)  # card, card_update, post, dm, file, ephemeral, respond
    ticket_id: int | None = foreign_key("tickets.id", nullable=True)
    channel_id: str | None = None
    thread_ts: str | None = None
    user_id: str | None = None
    text: str = Field(default="", nullable=False)
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON, nullable=True)
    response_url: str | None = None
    file_name: str | None = None  # a file upload (the digest chart): its name and bytes
    file_content: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    state: str = Field(default=OutboxState.PENDING.value, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = instant(nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = instant()
    slack_ts: str | None = None
    created_at: datetime = instant(nullable=False)
    sent_at: datetime | None = instant()


class JobLease(SQLModel, table=True):
    """Proof that a run-once job (``name``) ran for ``slot`` (e.g. a digest week) somewhere."""

    __tablename__ = "job_leases"
    __table_args__ = (UniqueConstraint("name", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(nullable=False)
    slot: str = Field(nullable=False)
    holder: str = Field(nullable=False)
    acquired_at: datetime = instant(nullable=False, default=utcnow)
