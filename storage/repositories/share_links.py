"""Customer share links: created, looked up by the hash of their token, listed, revoked."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ShareLink


def add_share_link(
    *, session: Session, workspace_id: int, channel_id: str, token_sha256: str, details: bool,
    created_by: str, created_at: datetime, expires_at: datetime,
) -> ShareLink:
    """Store a new link (its token's hash only)."""
    row = ShareLink(
        workspace_id=workspace_id, channel_id=channel_id, token_sha256=token_sha256,
        details=details, created_by=created_by, created_at=created_at, expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def find_live_share_link(*, session: Session, token_sha256: str, now: datetime) -> ShareLink | None:
    """The link with this token hash, unless it was revoked or has expired at `now`."""
    row = session.exec(select(ShareLink).where(ShareLink.token_sha256 == token_sha256)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def list_share_links(*, session: Session, workspace_id: int) -> list[ShareLink]:
    """Every link of the workspace, newest first (revoked and expired ones included)."""
    statement = (select(ShareLink).where(ShareLink.workspace_id == workspace_id)
                 .order_by(col(ShareLink.id).desc()))
    return list(session.exec(statement))


def revoke_share_link(
    *, session: Session, workspace_id: int, link_id: int, by: str, now: datetime
) -> ShareLink | None:
    """End a link at once; None when the workspace has no link with that number."""
    row = session.get(ShareLink, link_id)
    if row is None or row.workspace_id != workspace_id:
        return None
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_by = by
        session.add(row)
        session.flush()
    return row
