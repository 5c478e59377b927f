"""Who sees what: channels a person is a member of, the workspace only for slabot admins.

Membership and admin status come from Slack (conversations.members, users.info through the
notifier), asked outside any database transaction and kept for a minute so a page does not
call Slack for every channel on every click; someone who left a channel loses it within
that minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError

from commands.deps import Deps
from commands.permissions import is_admin
from commands.portal import known_channels

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0

K = TypeVar("K")
V = TypeVar("V")


class SlackUnavailable(Exception):
    """Slack did not answer a question the portal cannot do without (who this bot is)."""


class _TtlCache(Generic[K, V]):
    """A small thread-safe cache of answers that expire (monotonic time)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] > now:
                return found[1]
        value = load()
        with self._lock:
            self._items[key] = (now + self._seconds, value)
        return value


class Access:
    """Answers "may this person see that?" for the portal."""

    def __init__(self, deps: Deps, seconds: float = CACHE_SECONDS) -> None:
        self._deps = deps
        self._team: _TtlCache[str, str] = _TtlCache(seconds)
        self._admins: _TtlCache[str, bool] = _TtlCache(seconds)
        self._members: _TtlCache[str, frozenset[str]] = _TtlCache(seconds)
        self._channel_names: _TtlCache[str, str] = _TtlCache(seconds)
        self._user_names: _TtlCache[str, str] = _TtlCache(seconds)

    def team_id(self) -> str:
        """The workspace the bot is installed in (auth.test)."""
        return self._team.get("team", self._load_team)

    def _load_team(self) -> str:
        try:
            team = str(self._deps.client.auth_test().get("team_id") or "")
        except (SlackApiError, SlackClientError) as exc:
            log.warning("portal: auth.test failed (%s)", exc.__class__.__name__)
            raise SlackUnavailable from None
        if not team:
            raise SlackUnavailable
        return team

    def is_admin(self, user_id: str) -> bool:
        """A slabot admin (SLABOT_ADMINS, workspace admins and owners)."""
        return self._admins.get(user_id, lambda: is_admin(self._deps, user_id))

    def members(self, channel_id: str) -> frozenset[str]:
        """Everyone in a channel; empty when Slack will not say (the safe answer)."""
        return self._members.get(channel_id, lambda: self._load_members(channel_id))

    def channels_of(self, user_id: str) -> list[str]:
        """Channels with SLA data that `user_id` is a member of."""
        return [c for c in known_channels(self._deps, self.team_id())
                if user_id in self.members(c)]

    def may_see_channel(self, user_id: str, channel_id: str) -> bool:
        """Members of the channel, and admins (who see the whole workspace anyway)."""
        return self.is_admin(user_id) or user_id in self.members(channel_id)

    def channel_name(self, channel_id: str) -> str:
        """`support` for C0SUPPORT (the id when Slack will not say)."""
        return self._channel_names.get(channel_id, lambda: self._load_name(channel_id))

    def user_name(self, user_id: str) -> str:
        """A person's display name (their id when Slack will not say)."""
        return self._user_names.get(user_id, lambda: self._load_user_name(user_id))

    def _load_user_name(self, user_id: str) -> str:
        try:
            user = self._deps.notifier.user_info(user_id)
        except (SlackApiError, SlackClientError):
            return user_id
        profile = user.get("profile") or {}
        return str(profile.get("display_name") or user.get("real_name") or user.get("name")
                   or user_id)

    def _load_members(self, channel_id: str) -> frozenset[str]:
        members: set[str] = set()
        try:
            for page in self._deps.client.conversations_members(
                    channel=channel_id, limit=1000):
                members.update(page.get("members") or ())
        except (SlackApiError, SlackClientError) as exc:
            log.warning("portal: members of %s unknown (%s)", channel_id,
                        exc.__class__.__name__)
            return frozenset()
        return frozenset(members)

    def _load_name(self, channel_id: str) -> str:
        try:
            info = self._deps.client.conversations_info(channel=channel_id)
            return str(info["channel"].get("name") or channel_id)
        except (SlackApiError, SlackClientError, KeyError):
            return channel_id
