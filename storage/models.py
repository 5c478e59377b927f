"""SQLModel tables: everything slabot must remember across restarts.

Constraints live in the database so that duplicates are impossible rather than avoided:
one ticket per Slack message, one nudge per (ticket, metric, threshold, seq), one lease per
job slot, one inbox row per Slack event, one outbox row per intended Slack write.
Instants are aware UTC (``UTCDateTime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.columns import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

METRIC_COLUMN_PREFIXES = ("first_response", "resolution", "next_response")
UNRESOLVED = "status <> 'resolved'"  # the partial index's predicate; see Ticket


def utcnow() -> datetime:
    """Row bookkeeping timestamp (created/updated); SLA instants always come from the caller."""
    return datetime.now(UTC)


def _instant(*, nullable: bool = True, index: bool = False, default: Any = None) -> Any:
    if default is not None:
        return Field(default_factory=default, sa_type=UTCDateTime, nullable=nullable, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
    )


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    OPEN = "open"
    PAUSED = "paused"
    RESOLVED = "resolved"


class NudgeState(StrEnum):
    """Outbox state of one nudge: pending -> sending -> sent | failed; or cancelled/skipped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class DigestScope(StrEnum):
    """Which tickets a digest covers."""

    CHANNEL = "channel"
    ALL = "all"


class Workspace(SQLModel, table=True):
    """A Slack workspace (team) using slabot."""

    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(unique=True, nullable=False)
    name: str | None = None
    tz: str = Field(default="UTC", nullable=False)
    admins: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    ticket_prefix: str = Field(default="SLA", nullable=False)
    next_ticket_number: int = Field(default=1, nullable=False)
    created_at: datetime = _instant(nullable=False, default=utcnow)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


class PolicyRow(SQLModel, table=True):
    """A named SLA policy of a workspace; ``spec`` is ``sla.policy.Policy.to_spec()``."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspaces.id")
    name: str = Field(nullable=False)
    spec: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    created_at: datetime = _instant(nullable=False, default=utcnow)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


class TrackedChannel(SQLModel, table=True):
    """A channel whose messages become tickets, with its policy and escalation targets."""

    __tablename__ = "tracked_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspaces.id")
    channel_id: str = Field(nullable=False)
    name: str | None = None
    policy_id: int | None = _fk("policies.id", nullable=True, ondelete="SET NULL")
    default_priority: str | None = None
    escalation_channel_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    manager_user_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    responder_user_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tracking: bool = Field(default=True, nullable=False)
    # When tracking last turned on: messages from before it are not requests (catch-up).
    tracking_since: datetime | None = _instant()
    created_at: datetime = _instant(nullable=False, default=utcnow)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


class Ticket(SQLModel, table=True):
    """A tracked request: its Slack origin, people, status and stored SLA results.

    Per metric (``first_response``, ``resolution``, ``next_response``; all NULL when the
    policy does not measure it): the target in force (seconds), start, due instant (NULL
    while paused), the instant it becomes at risk (NULL while paused or stopped), the stop
    instant, and business elapsed seconds plus breach flag, final once stopped and a snapshot
    of the last update while running. ``next_due_at`` is the next instant the scheduler must
    look at this ticket (NULL when nothing is ahead).
    """

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        UniqueConstraint("workspace_id", "key"),
        UniqueConstraint("workspace_id", "channel_id", "message_ts"),
        CheckConstraint("status IN ('open', 'paused', 'resolved')", name="status"),
        CheckConstraint("priority IN ('P1', 'P2', 'P3', 'P4')", name="priority"),
        Index(None, "workspace_id", "channel_id", "thread_ts"),
        # Unresolved tickets are a sliver of the table: a partial index keeps them apart, and
        # queries say UNRESOLVED word for word so that both engines can use it.
        Index("ix_tickets_unresolved", "workspace_id", "channel_id", "created_at",
              sqlite_where=text(UNRESOLVED), postgresql_where=text(UNRESOLVED)),
        Index(None, "workspace_id", "status", "assignee_id"),
        # Compliance aggregates: metrics that stopped in a period, per workspace and channel.
        # The trailing columns make them covering, so the aggregates never touch the table
        # (started/due answer "was it open and already late at the period's start?").
        *(
            index
            for prefix, short in (("first_response", "fr"), ("resolution", "res"),
                                  ("next_response", "nr"))
            for index in (
                Index(f"ix_tickets_ws_{short}_stopped", "workspace_id", f"{prefix}_stopped_at",
                      f"{prefix}_breached", f"{prefix}_elapsed_s", f"{prefix}_started_at",
                      f"{prefix}_due_at"),
                Index(f"ix_tickets_ws_ch_{short}_stopped", "workspace_id", "channel_id",
                      f"{prefix}_stopped_at", f"{prefix}_breached", f"{prefix}_elapsed_s",
                      f"{prefix}_started_at", f"{prefix}_due_at"),
            )
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspaces.id")
    number: int = Field(nullable=False)
    key: str = Field(nullable=False)
    channel_id: str = Field(nullable=False)
    message_ts: str = Field(nullable=False)
    thread_ts: str = Field(nullable=False)
    requester_id: str = Field(nullable=False)
    assignee_id: str | None = None
    priority: str = Field(nullable=False)
    status: str = Field(default=TicketStatus.OPEN.value, nullable=False)
    title: str = Field(default="", nullable=False)
    text: str = Field(default="", nullable=False)
    source: str = Field(default="message", nullable=False)
    permalink: str | None = None
    card_ts: str | None = None

    created_at: datetime = _instant(nullable=False)
    first_response_at: datetime | None = _instant()
    resolved_at: datetime | None = _instant()

    first_response_target_s: float | None = None
    first_response_started_at: datetime | None = _instant()
    first_response_due_at: datetime | None = _instant()
    first_response_at_risk_at: datetime | None = _instant()
    first_response_stopped_at: datetime | None = _instant()
    first_response_elapsed_s: float | None = None
    first_response_breached: bool | None = None

    resolution_target_s: float | None = None
    resolution_started_at: datetime | None = _instant()
    resolution_due_at: datetime | None = _instant()
    resolution_at_risk_at: datetime | None = _instant()
    resolution_stopped_at: datetime | None = _instant()
    resolution_elapsed_s: float | None = None
    resolution_breached: bool | None = None

    next_response_target_s: float | None = None
    next_response_started_at: datetime | None = _instant()
    next_response_due_at: datetime | None = _instant()
    next_response_at_risk_at: datetime | None = _instant()
    next_response_stopped_at: datetime | None = _instant()
    next_response_elapsed_s: float | None = None
    next_response_breached: bool | None = None

    next_due_at: datetime | None = _instant(index=True)
    claimed_by: str | None = None
    claimed_until: datetime | None = _instant()

    version: int = Field(default=1, nullable=False)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's history; ``kind`` is an ``sla.clock.EventKind`` value."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index(None, "ticket_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("tickets.id")
    kind: str = Field(nullable=False)
    at: datetime = _instant(nullable=False)
    actor_id: str | None = None
    priority: str | None = None
    note: str | None = None
    created_at: datetime = _instant(nullable=False, default=utcnow)


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
    ticket_id: int = _fk("tickets.id")
    metric: str = Field(nullable=False)
    cycle: int = Field(default=0, nullable=False)  # next-response cycle; 0 otherwise
    threshold: float = Field(nullable=False)
    seq: int = Field(default=0, nullable=False)
    planned_at: datetime = _instant(nullable=False)
    next_attempt_at: datetime = _instant(nullable=False)
    state: str = Field(default=NudgeState.PENDING.value, nullable=False)
    late: bool = Field(default=False, nullable=False)
    audiences: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    # Destinations already reached ("thread:C1", "dm:U1"): a retry after a failure or a
    # crash part-way through a nudge never repeats them.
    delivered: list[str] | None = Field(default=None, sa_type=JSON, nullable=True)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = _instant()
    slack_channel: str | None = None
    slack_ts: str | None = None
    sent_at: datetime | None = _instant()
    created_at: datetime = _instant(nullable=False, default=utcnow)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


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
    received_at: datetime = _instant(nullable=False)
    next_attempt_at: datetime = _instant(nullable=False)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = _instant()
    done_at: datetime | None = _instant()


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
    ticket_id: int | None = _fk("tickets.id", nullable=True)
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
    next_attempt_at: datetime = _instant(nullable=False)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = _instant()
    slack_ts: str | None = None
    created_at: datetime = _instant(nullable=False)
    sent_at: datetime | None = _instant()


class DigestSubscription(SQLModel, table=True):
    """A weekly (or cron) compliance digest sent to a channel or a user."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        CheckConstraint(
            "(target_channel_id IS NULL) <> (target_user_id IS NULL)", name="one_target"
        ),
        CheckConstraint(
            "cron IS NOT NULL OR (weekday IS NOT NULL AND time_of_day IS NOT NULL)",
            name="schedule",
        ),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday"),
        CheckConstraint("scope IN ('channel', 'all')", name="scope"),
        CheckConstraint("scope = 'all' OR scope_channel_id IS NOT NULL", name="scope_channel"),
        Index(None, "workspace_id", "active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspaces.id")
    target_channel_id: str | None = None
    target_user_id: str | None = None
    weekday: int | None = None  # 0 = Monday, like datetime.weekday()
    time_of_day: str | None = None  # "HH:MM" local to ``tz``
    cron: str | None = None
    tz: str = Field(default="UTC", nullable=False)
    scope: str = Field(default=DigestScope.ALL.value, nullable=False)
    scope_channel_id: str | None = None
    created_by: str | None = None
    active: bool = Field(default=True, nullable=False)
    created_at: datetime = _instant(nullable=False, default=utcnow)
    updated_at: datetime = _instant(nullable=False, default=utcnow)


class JobLease(SQLModel, table=True):
    """Proof that a run-once job (``name``) ran for ``slot`` (e.g. a digest week) somewhere."""

    __tablename__ = "job_leases"
    __table_args__ = (UniqueConstraint("name", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(nullable=False)
    slot: str = Field(nullable=False)
    holder: str = Field(nullable=False)
    acquired_at: datetime = _instant(nullable=False, default=utcnow)


class ShareLink(SQLModel, table=True):
    """A read-only customer link to one channel's compliance page (/portal/s/<token>).

    Only the SHA-256 of the token is stored: a copy of the database does not open the pages.
    """

    __tablename__ = "share_links"
    __table_args__ = (Index(None, "workspace_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspaces.id")
    channel_id: str = Field(nullable=False)
    token_sha256: str = Field(unique=True, nullable=False)
    details: bool = Field(default=False, nullable=False)  # ticket titles shown
    created_by: str = Field(nullable=False)
    created_at: datetime = _instant(nullable=False)
    expires_at: datetime = _instant(nullable=False)
    revoked_at: datetime | None = _instant()
    revoked_by: str | None = None


__all__ = [
    "METRIC_COLUMN_PREFIXES",
    "DigestScope",
    "DigestSubscription",
    "JobLease",
    "Nudge",
    "NudgeState",
    "PolicyRow",
    "ShareLink",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "TrackedChannel",
    "Workspace",
]
