"""Digest subscriptions: who gets a compliance digest, when, and about what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key, instant, utcnow


class DigestScope(StrEnum):
    """Which tickets a digest covers."""

    CHANNEL = "channel"
    ALL = "all"


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
    workspace_id: int = foreign_key("workspaces.id")
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
    created_at: datetime = instant(nullable=False, default=utcnow)
    updated_at: datetime = instant(nullable=False, default=utcnow)
