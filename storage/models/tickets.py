"""Tickets and their history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key, instant, utcnow

UNRESOLVED = "status <> 'resolved'"  # the partial index's predicate; see Ticket


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    OPEN = "open"
    PAUSED = "paused"
    RESOLVED = "resolved"


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
        # Rollups: tickets created or resolved in the part of a day before or after an instant.
        Index(None, "workspace_id", "created_at"),
        Index(None, "workspace_id", "resolved_at"),
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
                # Rollups: the part of a day before or after an instant is read from tickets
                # by when their metrics started or fell due (stopped tells closed ones).
                Index(f"ix_tickets_ws_{short}_started", "workspace_id", f"{prefix}_started_at",
                      f"{prefix}_stopped_at"),
                Index(f"ix_tickets_ws_{short}_due", "workspace_id", f"{prefix}_due_at",
                      f"{prefix}_stopped_at"),
            )
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = foreign_key("workspaces.id")
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

    created_at: datetime = instant(nullable=False)
    first_response_at: datetime | None = instant()
    resolved_at: datetime | None = instant()

    first_response_target_s: float | None = None
    first_response_started_at: datetime | None = instant()
    first_response_due_at: datetime | None = instant()
    first_response_at_risk_at: datetime | None = instant()
    first_response_stopped_at: datetime | None = instant()
    first_response_elapsed_s: float | None = None
    first_response_breached: bool | None = None

    resolution_target_s: float | None = None
    resolution_started_at: datetime | None = instant()
    resolution_due_at: datetime | None = instant()
    resolution_at_risk_at: datetime | None = instant()
    resolution_stopped_at: datetime | None = instant()
    resolution_elapsed_s: float | None = None
    resolution_breached: bool | None = None

    next_response_target_s: float | None = None
    next_response_started_at: datetime | None = instant()
    next_response_due_at: datetime | None = instant()
    next_response_at_risk_at: datetime | None = instant()
    next_response_stopped_at: datetime | None = instant()
    next_response_elapsed_s: float | None = None
    next_response_breached: bool | None = None

    next_due_at: datetime | None = instant(index=True)
    claimed_by: str | None = None
    claimed_until: datetime | None = instant()

    version: int = Field(default=1, nullable=False)
    updated_at: datetime = instant(nullable=False, default=utcnow)

    def touch(self) -> None:
        """Count a change: the version keys card redraws, so each change draws once."""
        self.version = (self.version or 0) + 1
        self.updated_at = utcnow()


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's history; ``kind`` is an ``sla.clock.EventKind`` value."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index(None, "ticket_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = foreign_key("tickets.id")
    kind: str = Field(nullable=False)
    at: datetime = instant(nullable=False)
    actor_id: str | None = None
    priority: str | None = None
    note: str | None = None
    created_at: datetime = instant(nullable=False, default=utcnow)
