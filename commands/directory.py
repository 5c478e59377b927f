"""Who and where in Slack: channels and people looked up by name, channel membership.

Reads of the Web API that verbs share (escalation targets, responders, digest targets and
who may see them). Cursor-paged methods are walked by `pages`, at most 25 pages of 200.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.deps import Deps
from commands.errors import NotFound, PermissionDenied
from commands.parser import ChannelRef, UserRef

log = logging.getLogger(__name__)

_PAGE = 200
_MAX_PAGES = 25  # a lookup by name never walks more than 5,000 entries


def pages(call: Callable[..., Any], key: str, **params: Any) -> Iterator[Any]:
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


def resolve_channel(deps: Deps, ref: ChannelRef) -> str:
    """The channel id of a mention (looked up by name when only the name was typed)."""
    if ref.id:
        return ref.id
    try:
        for channel in pages(deps.client.conversations_list, "channels",
                             types="public_channel,private_channel", exclude_archived=True):
            if channel.get("name") == ref.name:
                return str(channel["id"])
    except SlackApiError as exc:
        log.info("conversations.list failed: %s", exc.response.get("error"))
    raise _unknown(f"#{ref.name}")


def resolve_user(deps: Deps, ref: UserRef) -> str:
    """The user id of a mention (looked up by handle or display name when only typed)."""
    if ref.id:
        return ref.id
    try:
        for user in pages(deps.client.users_list, "members"):
            profile = user.get("profile") or {}
            names = {user.get("name"), profile.get("display_name"), profile.get("real_name")}
            if ref.name in {n.lower() for n in names if n} and not user.get("deleted"):
                return str(user["id"])
    except SlackApiError as exc:
        log.info("users.list failed: %s", exc.response.get("error"))
    raise _unknown(f"@{ref.name}")


def resolve_users(deps: Deps, refs: Iterable[UserRef]) -> list[str]:
    """The user ids of mentions, each once, in the order named."""
    return list(dict.fromkeys(resolve_user(deps, ref) for ref in refs))


def is_member(deps: Deps, channel_id: str, user_id: str) -> bool:
    """Whether `user_id` is in the channel (a channel Slack does not show the bot: no)."""
    try:
        return any(member == user_id for member in pages(
            deps.client.conversations_members, "members", channel=channel_id))
    except (SlackApiError, OSError) as exc:  # not shown to the bot: not shown to the asker
        log.info("conversations.members failed for %s: %s", channel_id, type(exc).__name__)
        return False


def bot_is_member(deps: Deps, channel_id: str) -> bool | None:
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
    member = (info.get("channel") or {}).get("is_member")
    return None if member is None else bool(member)


def require_postable(deps: Deps, channel_id: str) -> None:
    """Refuse a channel the bot cannot post in (a setting pointing there would fail later,
    silently, when a breach or a digest is due)."""
    if bot_is_member(deps, channel_id) is False:
        raise PermissionDenied(
            f"I am not in <#{channel_id}>, so I could not post there. Invite me first "
            f"(`/invite @slabot` in that channel), then try again."
        )
