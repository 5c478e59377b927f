"""Digest subscriptions: who gets the weekly compliance digest, when, and about what."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from storage.errors import StorageError
from storage.models import DigestScope, DigestSubscription
from storage.repositories._sql import get_row, save_changed

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def add_digest_subscription(
    *,
    session: Session,
    workspace_id: int,
    tz: str,
    target_channel_id: str | None = None,
    target_user_id: str | None = None,
    weekday: int | None = None,
    time_of_day: str | None = None,
    cron: str | None = None,
    scope_channel_id: str | None = None,
    created_by: str | None = None,
) -> DigestSubscription:
    """Subscribe a channel or a user to a digest (weekday 0 = Monday + "HH:MM", or cron),
    about one channel (``scope_channel_id``) or the whole workspace."""
    if (target_channel_id is None) == (target_user_id is None):
        raise StorageError("a digest goes to exactly one channel or one user")
    if cron is None and (weekday is None or time_of_day is None):
        raise StorageError("a digest needs a weekday and a time (HH:MM), or a cron expression")
    if weekday is not None and not 0 <= weekday <= 6:
        raise StorageError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
    if time_of_day is not None and not _TIME_RE.match(time_of_day):
        raise StorageError(f"time must be HH:MM (24 hours), got {time_of_day!r}")
    row = DigestSubscription(
        workspace_id=workspace_id,
        target_channel_id=target_channel_id,
        target_user_id=target_user_id,
        weekday=weekday,
        time_of_day=time_of_day,
        cron=cron,
        tz=tz,
        scope=(DigestScope.ALL if scope_channel_id is None else DigestScope.CHANNEL).value,
        scope_channel_id=scope_channel_id,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def get_digest_subscription(*, session: Session, subscription_id: int) -> DigestSubscription:
    """One subscription by id; NotFound otherwise."""
    return get_row(session, DigestSubscription, subscription_id, "digest subscription")


def list_digest_subscriptions(
    *, session: Session, workspace_id: int | None = None
) -> list[DigestSubscription]:
    """Active subscriptions (of one workspace, or all of them for the scheduler)."""
    statement = select(DigestSubscription).where(DigestSubscription.active)
    if workspace_id is not None:
        statement = statement.where(DigestSubscription.workspace_id == workspace_id)
    return list(session.exec(statement.order_by(col(DigestSubscription.id))))


def remove_digest_subscription(*, session: Session, subscription_id: int) -> bool:
    """Deactivate a subscription; False if it was not active."""
    row = session.get(DigestSubscription, subscription_id)
    if row is None or not row.active:
        return False
    row.active = False
    save_changed(session, row)
    return True
