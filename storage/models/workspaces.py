"""A workspace's configuration: the workspace, its policies, its channels, its share links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key, instant, utcnow


class Workspace(SQLModel, table=True):
    """A Slack workspace (team) using slabot."""

    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(unique=True, nullable=False)
    name: str | None = None
    tz: str = Field(default="UTC", nullable=False)
    ticket_prefix: str = Field(default="SLA", nullable=False)
    next_ticket_number: int = Field(default=1, nullable=False)
    created_at: datetime = instant(nullable=False, default=utcnow)
    updated_at: datetime = instant(nullable=False, default=utcnow)


class PolicyRow(SQLModel, table=True):
    """A named SLA policy of a workspace; ``spec`` is ``sla.policy.Policy.to_spec()``."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = foreign_key("workspaces.id")
    name: str = Field(nullable=False)
    spec: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    created_at: datetime = instant(nullable=False, default=utcnow)
    updated_at: datetime = instant(nullable=False, default=utcnow)


class TrackedChannel(SQLModel, table=True):
    """A channel whose messages become tickets, with its policy and escalation targets."""

    __tablename__ = "tracked_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    name: str | None = None
    policy_id: int | None = foreign_key("policies.id", nullable=True, ondelete="SET NULL")
    default_priority: str | None = None
    escalation_channel_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    manager_user_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    responder_user_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tracking: bool = Field(default=True, nullable=False)
    # When tracking last turned on: messages from before it are not requests (catch-up).
    tracking_since: datetime | None = instant()
    created_at: datetime = instant(nullable=False, default=utcnow)
    updated_at: datetime = instant(nullable=False, default=utcnow)


class ShareLink(SQLModel, table=True):
    """A read-only customer link to one channel's compliance page (/portal/s/<token>).

    Only the SHA-256 of the token is stored: a copy of the database does not open the pages.
    """

    __tablename__ = "share_links"
    __table_args__ = (Index(None, "workspace_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    token_sha256: str = Field(unique=True, nullable=False)
    details: bool = Field(default=False, nullable=False)  # ticket titles shown
    created_by: str = Field(nullable=False)
    created_at: datetime = instant(nullable=False)
    expires_at: datetime = instant(nullable=False)
    revoked_at: datetime | None = instant()
    revoked_by: str | None = None
