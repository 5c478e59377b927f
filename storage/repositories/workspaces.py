"""Workspaces, tracked channels and their policies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from sla.policy import Policy
from sla.targets import Priority
from storage.errors import StorageError
from storage.mappers import policy_from_row
from storage.models import PolicyRow, TrackedChannel, Workspace, utcnow
from storage.repositories._sql import get_row, insert_ignoring_duplicates, save_changed

DEFAULT_POLICY_NAME = "default"


def get_workspace(*, session: Session, team_id: str) -> Workspace | None:
    """The workspace of a Slack team id, if it was seen before."""
    return session.exec(select(Workspace).where(Workspace.team_id == team_id)).first()


def list_workspaces(*, session: Session) -> list[Workspace]:
    """Every workspace, oldest first (the CLI picks the only one when no team is given)."""
    return list(session.exec(select(Workspace).order_by(col(Workspace.id))))


def get_workspace_by_id(*, session: Session, workspace_id: int) -> Workspace:
    """The workspace with this id; NotFound otherwise."""
    return get_row(session, Workspace, workspace_id, "workspace")


def get_or_create_workspace(
    *, session: Session, team_id: str, name: str | None = None, tz: str = "UTC"
) -> Workspace:
    """The workspace of ``team_id``, created on first sight (safe when two requests race)."""
    workspace = get_workspace(session=session, team_id=team_id)
    if workspace is not None:
        return workspace
    now = utcnow()
    insert_ignoring_duplicates(
        session,
        Workspace,
        {"team_id": team_id, "name": name, "tz": tz, "ticket_prefix": "SLA",
         "next_ticket_number": 1, "created_at": now, "updated_at": now},
    )
    workspace = get_workspace(session=session, team_id=team_id)
    assert workspace is not None  # inserted above or by a concurrent request
    return workspace


def update_workspace(
    *,
    session: Session,
    workspace: Workspace,
    tz: str | None = None,
    name: str | None = None,
) -> Workspace:
    """Change a workspace's time zone or name (None leaves a setting as it is)."""
    if tz is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise StorageError(
                f"unknown time zone {tz!r}: use an IANA name like Europe/Paris"
            ) from None
        workspace.tz = tz
    if name is not None:
        workspace.name = name
    return save_changed(session, workspace)


def get_channel(*, session: Session, workspace_id: int, channel_id: str) -> TrackedChannel | None:
    """The channel's configuration row (tracked or not), if any."""
    return session.exec(
        select(TrackedChannel).where(
            TrackedChannel.workspace_id == workspace_id, TrackedChannel.channel_id == channel_id
        )
    ).first()


def is_tracked(*, session: Session, workspace_id: int, channel_id: str) -> bool:
    """True when messages in this channel become tickets."""
    channel = get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
    return channel is not None and channel.tracking


def track_channel(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str,
    name: str | None = None,
    default_priority: Priority | str | None = None,
    at: datetime | None = None,
) -> TrackedChannel:
    """Start tracking a channel (again) at ``at`` (now); its previous configuration is kept.

    ``tracking_since`` moves only when tracking turns on: asking again changes nothing.
    """
    channel = _channel_row(session, workspace_id, channel_id)
    if not channel.tracking or channel.tracking_since is None:
        channel.tracking_since = at or utcnow()
    channel.tracking = True
    if name is not None:
        channel.name = name
    if default_priority is not None:
        channel.default_priority = Priority.parse(default_priority).value
    return save_changed(session, channel)


def untrack_channel(*, session: Session, workspace_id: int, channel_id: str) -> bool:
    """Stop tracking a channel; False when it was not tracked. Existing tickets stay."""
    channel = get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
    if channel is None or not channel.tracking:
        return False
    channel.tracking = False
    save_changed(session, channel)
    return True


def configure_channel(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str,
    default_priority: Priority | str | None = None,
    escalation_channel_ids: Iterable[str] | None = None,
    manager_user_ids: Iterable[str] | None = None,
    responder_user_ids: Iterable[str] | None = None,
) -> TrackedChannel:
    """Set a channel's escalation targets, managers, responders or default priority.

    None leaves a setting as it is; an empty list clears it.
    """
    channel = _channel_row(session, workspace_id, channel_id)
    if default_priority is not None:
        channel.default_priority = Priority.parse(default_priority).value
    if escalation_channel_ids is not None:
        channel.escalation_channel_ids = list(dict.fromkeys(escalation_channel_ids))
    if manager_user_ids is not None:
        channel.manager_user_ids = list(dict.fromkeys(manager_user_ids))
    if responder_user_ids is not None:
        channel.responder_user_ids = list(dict.fromkeys(responder_user_ids))
    return save_changed(session, channel)


def list_all_tracked_channels(*, session: Session) -> list[tuple[str, TrackedChannel]]:
    """(team id, channel) of every tracked channel in every workspace."""
    rows = session.exec(
        select(Workspace.team_id, TrackedChannel)
        .join(Workspace, col(Workspace.id) == col(TrackedChannel.workspace_id))
        .where(TrackedChannel.tracking)
        .order_by(Workspace.team_id, TrackedChannel.channel_id)
    )
    return [(team_id, channel) for team_id, channel in rows]


def list_tracked_channels(*, session: Session, workspace_id: int) -> list[TrackedChannel]:
    """Tracked channels of a workspace, by channel id."""
    return list(
        session.exec(
            select(TrackedChannel)
            .where(TrackedChannel.workspace_id == workspace_id, TrackedChannel.tracking)
            .order_by(TrackedChannel.channel_id)
        )
    )


def save_policy(
    *,
    session: Session,
    workspace_id: int,
    policy: Policy | Mapping[str, Any],
    channel_id: str | None = None,
) -> PolicyRow:
    """Store a policy for a channel, or the workspace default when ``channel_id`` is None.

    A spec is validated first (``Policy.from_spec``): an invalid one raises ``PolicyError``
    and nothing is written.
    """
    spec = (policy if isinstance(policy, Policy) else Policy.from_spec(policy)).to_spec()
    name = DEFAULT_POLICY_NAME if channel_id is None else f"channel:{channel_id}"
    row = session.exec(
        select(PolicyRow).where(PolicyRow.workspace_id == workspace_id, PolicyRow.name == name)
    ).first()
    if row is None:
        row = PolicyRow(workspace_id=workspace_id, name=name, spec=spec)
    else:
        row.spec = spec
    save_changed(session, row)
    if channel_id is not None:
        channel = _channel_row(session, workspace_id, channel_id)
        channel.policy_id = row.id
        save_changed(session, channel)
    return row


def get_policy_row(
    *, session: Session, workspace_id: int, channel_id: str | None = None
) -> PolicyRow | None:
    """The channel's own policy row, else the workspace default row, else None."""
    if channel_id is not None:
        channel = get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
        if channel is not None and channel.policy_id is not None:
            row = session.get(PolicyRow, channel.policy_id)
            if row is not None:
                return row
    return session.exec(
        select(PolicyRow).where(
            PolicyRow.workspace_id == workspace_id, PolicyRow.name == DEFAULT_POLICY_NAME
        )
    ).first()


def get_policy(*, session: Session, workspace_id: int, channel_id: str | None = None) -> Policy:
    """The policy in force for a channel: its own, the workspace's, or the stock default.

    The stock default keeps Mon-Fri 09:00-17:00 in the workspace's time zone.
    """
    row = get_policy_row(session=session, workspace_id=workspace_id, channel_id=channel_id)
    if row is not None:
        return policy_from_row(row)
    return _stock_policy(get_workspace_by_id(session=session, workspace_id=workspace_id))


def channel_policies(*, session: Session, workspace_id: int) -> tuple[dict[str, Policy], Policy]:
    """Every channel's own policy, and the policy of the others (``get_policy``'s answers for
    a whole workspace in two statements, each stored policy read once)."""
    default = get_policy(session=session, workspace_id=workspace_id)
    rows = session.exec(
        select(TrackedChannel.channel_id, PolicyRow)
        .join(PolicyRow, col(PolicyRow.id) == col(TrackedChannel.policy_id))
        .where(TrackedChannel.workspace_id == workspace_id)
    )
    parsed: dict[int | None, Policy] = {}
    own = {}
    for channel_id, row in rows:
        if row.id not in parsed:
            parsed[row.id] = policy_from_row(row)
        own[channel_id] = parsed[row.id]
    return own, default


def get_channel_setting(
    *, session: Session, team_id: str, channel_id: str
) -> tuple[Workspace, TrackedChannel | None, Policy] | None:
    """Workspace, channel row and policy in force for a channel, in one statement (intake
    reads them for every batch); None when the workspace was never seen. The policy is
    `get_policy`'s: the channel's own, else the workspace default, else the stock one."""
    found = session.exec(_channel_setting_statement(),
                         params={"team_id": team_id, "channel_id": channel_id}).first()
    if found is None:
        return None
    workspace, channel, own_row, default_row = found
    row = own_row if own_row is not None else default_row
    return workspace, channel, policy_from_row(row) if row is not None else _stock_policy(workspace)


@cache
def _channel_setting_statement() -> Select[Workspace, TrackedChannel, PolicyRow, PolicyRow]:
    # Built once: aliasing and compiling the four-entity join costs more than running it.
    # The three outer-joined entities come back None when there is no such row.
    own, default = aliased(PolicyRow), aliased(PolicyRow)
    workspace_id = col(Workspace.id)
    return (
        select(Workspace, TrackedChannel, own, default)
        .outerjoin(TrackedChannel, and_(col(TrackedChannel.workspace_id) == workspace_id,
                                        col(TrackedChannel.channel_id) == bindparam("channel_id")))
        .outerjoin(own, col(own.id) == col(TrackedChannel.policy_id))
        .outerjoin(default, and_(col(default.workspace_id) == workspace_id,
                                 col(default.name) == DEFAULT_POLICY_NAME))
        .where(Workspace.team_id == bindparam("team_id"))
    )


def _stock_policy(workspace: Workspace) -> Policy:
    stock = Policy.default()
    if workspace.tz == stock.calendar.tz:
        return stock
    return Policy.from_spec({**stock.to_spec(), "calendar": {
        **stock.calendar.to_spec(), "tz": workspace.tz}})


def _channel_row(session: Session, workspace_id: int, channel_id: str) -> TrackedChannel:
    channel = get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
    if channel is not None:
        return channel
    # Configuring a channel before tracking it is allowed; it stays untracked until asked.
    insert_ignoring_duplicates(
        session,
        TrackedChannel,
        {"workspace_id": workspace_id, "channel_id": channel_id, "tracking": False,
         "escalation_channel_ids": [], "manager_user_ids": [], "responder_user_ids": [],
         "created_at": utcnow(), "updated_at": utcnow()},
    )
    channel = get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
    assert channel is not None
    return channel
