"""`/sla track [P1..P4]` and `/sla untrack`: whether messages in this channel become tickets."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.errors import PermissionDenied
from commands.parser import parse_no_args, parse_track
from commands.request import Reply, Verb, VerbRequest
from storage import repositories as repo

log = logging.getLogger(__name__)

TRACK_USAGE = "/sla track [P1..P4]"
UNTRACK_USAGE = "/sla untrack"


def bot_is_member(deps: Any, channel_id: str) -> bool | None:
    """Whether the bot is in the channel: False when Slack says it is not (or does not show
    the channel to it at all), None when Slack cannot say (a DM, a network error)."""
    try:
        info = deps.client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.info("conversations.info failed for %s: %s", channel_id, error)
        return False if error == "channel_not_found" else None
    except OSError as exc:
        log.info("conversations.info failed for %s: %s", channel_id, exc.__class__.__name__)
        return None
    return (info.get("channel") or {}).get("is_member")


def require_postable(deps: Any, channel_id: str) -> None:
    """Refuse a channel the bot cannot post in (a setting pointing there would fail later,
    silently, when a breach or a digest is due)."""
    if bot_is_member(deps, channel_id) is False:
        raise PermissionDenied(
            f"I am not in <#{channel_id}>, so I could not post there. Invite me first "
            f"(`/invite @slabot` in that channel), then try again."
        )


def _bot_is_member(request: VerbRequest) -> bool | None:
    return bot_is_member(request.deps, request.channel_id)


def handle_track(request: VerbRequest) -> Reply:
    """Start tracking the channel: new top-level messages become tickets."""
    priority = parse_track(request.args, TRACK_USAGE)
    request.require_admin("turn ticket tracking on")
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        channel = repo.track_channel(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id,
            name=request.channel_name, default_priority=priority, at=request.deps.clock.now(),
        )
        policy = repo.get_policy(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id
        )
        default = channel.default_priority or policy.default_priority
    text = (
        f":ticket: Tracking <#{request.channel_id}>: every new message here becomes an SLA "
        f"ticket (default priority {default}; words like _urgent_ or _outage_ raise it). "
        "See the targets with `/sla policy`."
    )
    if _bot_is_member(request) is False:
        text += "\n:point_right: Invite me first so I can see the messages: `/invite @slabot`."
    return Reply(text=text)


def handle_untrack(request: VerbRequest) -> Reply:
    """Stop tracking the channel; open tickets keep their clocks."""
    parse_no_args(request.args, UNTRACK_USAGE)
    request.require_admin("turn ticket tracking off")
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        stopped = repo.untrack_channel(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id
        )
    if not stopped:
        return Reply(text=f"<#{request.channel_id}> was not tracked; nothing changed.")
    return Reply(
        text=f"Stopped tracking <#{request.channel_id}>. New messages are no longer tickets; "
        "open tickets keep running until they are resolved."
    )


VERBS = (
    Verb(
        name="track",
        usage=(TRACK_USAGE,),
        summary="make every new message in this channel an SLA ticket",
        details="The optional priority is the default for new tickets here (else the "
        "policy's default). A :ticket: reaction or the message shortcut also tracks a single "
        "message anywhere.",
        handler=handle_track,
        admin_only=True,
    ),
    Verb(
        name="untrack",
        usage=(UNTRACK_USAGE,),
        summary="stop turning messages in this channel into tickets",
        handler=handle_untrack,
        admin_only=True,
    ),
)
