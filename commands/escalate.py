"""`/sla escalate #channel @user ...`: where this channel's breaches go.

Slack sends mentions escaped with their ids (the manifest sets `should_escape`); a plain
`#name` or `@name` someone typed by hand is looked up by name through the Web API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.errors import NotFound
from commands.parser import ChannelRef, UserRef, parse_escalate
from commands.request import Reply, Verb, VerbRequest
from commands.tracking import require_postable
from storage import repositories as repo

log = logging.getLogger(__name__)

USAGE = "/sla escalate #channel @user ..."
USAGE_OFF = "/sla escalate off"
_PAGE = 200
_MAX_PAGES = 25  # a lookup by name never walks more than 5,000 entries


def pages(call: Any, key: str, **params: Any) -> Iterator[Any]:
    """The `key` entries of a cursor-paged Web API method, page after page (at most 25)."""
    cursor = None
    for _ in range(_MAX_PAGES):
        page = {"limit": _PAGE, **params, **({"cursor": cursor} if cursor else {})}
        response = call(**page)
        yield from response.get(key) or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _unknown(what: str) -> NotFound:
    return NotFound(
        f"I could not find {what}. Pick it from Slack's autocomplete so the mention is a link."
    )


def resolve_channel(deps: Any, ref: ChannelRef) -> str:
    """The channel id of a mention (looked up by name when only the name was typed)."""
    if ref.id:
        return ref.id
    try:
        for channel in pages(deps.client.conversations_list, "channels",
                              types="public_channel,private_channel", exclude_archived=True):
            if channel.get("name") == ref.name:
                return channel["id"]
    except SlackApiError as exc:
        log.info("conversations.list failed: %s", exc.response.get("error"))
    raise _unknown(f"#{ref.name}")


def resolve_user(deps: Any, ref: UserRef) -> str:
    """The user id of a mention (looked up by handle or display name when only typed)."""
    if ref.id:
        return ref.id
    try:
        for user in pages(deps.client.users_list, "members"):
            profile = user.get("profile") or {}
            names = {user.get("name"), profile.get("display_name"), profile.get("real_name")}
            if ref.name in {n.lower() for n in names if n} and not user.get("deleted"):
                return user["id"]
    except SlackApiError as exc:
        log.info("users.list failed: %s", exc.response.get("error"))
    raise _unknown(f"@{ref.name}")


def handle_escalate(request: VerbRequest) -> Reply:
    """Set (or with `off` clear) the escalation channel and managers of this channel."""
    parsed = parse_escalate(request.args, USAGE)
    request.require_admin("change where breaches are escalated")
    channel_ids = [resolve_channel(request.deps, parsed.channel)] if parsed.channel else []
    for channel_id in channel_ids:
        require_postable(request.deps, channel_id)
    user_ids = list(dict.fromkeys(resolve_user(request.deps, u) for u in parsed.users))
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = repo.configure_channel(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id,
            # Naming only people keeps the channel, and the other way round.
            escalation_channel_ids=channel_ids if parsed.clear or channel_ids else None,
            manager_user_ids=user_ids if parsed.clear or user_ids else None,
        )
        channels, managers = list(row.escalation_channel_ids), list(row.manager_user_ids)
    if not channels and not managers:
        return Reply(text=f"Breaches in <#{request.channel_id}> are now only announced in "
                          "their thread.")
    where = [f"<#{c}>" for c in channels] + [f"<@{u}>" for u in managers]
    return Reply(
        text=f":rotating_light: Breaches in <#{request.channel_id}> now go to "
        f"{', '.join(where)} (and the ticket's thread)."
    )


VERBS = (
    Verb(
        name="escalate",
        usage=(USAGE, USAGE_OFF),
        summary="choose where breaches go: an escalation channel and/or managers",
        details="Managers hear breaches and re-escalations by direct message. Naming only "
        "people keeps the escalation channel, naming only a channel keeps the managers; "
        "`off` clears both.",
        handler=handle_escalate,
        admin_only=True,
    ),
)
