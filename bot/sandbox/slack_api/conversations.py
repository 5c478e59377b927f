"""auth.test, users.info and conversations.*: who is who, and reading channels."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack_api.records import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    FakeChannel,
    as_read,
    page_of,
    ts_key,
)
from bot.sandbox.slack_api.state import SlackState


class ConversationMethods(SlackState):
    """auth.test, users.info and conversations.*: who is who, and reading channels."""

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": self.workspace_url,
            "team": "Fake Team",
            "user": "slabot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_slack()}

    def _api_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel"))
        channel = self.channels.get(channel_id)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        member = BOT_USER_ID in channel.members if self.strict else channel.bot_is_member
        return {"ok": True, "channel": channel.as_slack(member)}

    def _api_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        page, cursor = page_of(list(channel.members), params, default_limit=100)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        user = str(users).split(",")[0].strip()
        if self.strict and user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        channel_id = "D" + user.lstrip("U")
        with self._lock:
            if channel_id not in self.channels:
                self.channels[channel_id] = FakeChannel(
                    id=channel_id, name=user, is_private=True, members=[user, BOT_USER_ID],
                    is_im=True)
        return {"ok": True, "channel": {"id": channel_id}}

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        with self._lock:
            root = self.messages.get((channel, ts))
        if root is None:
            return {"ok": False, "error": "thread_not_found"}
        shown = [as_read(m, params) for m in self.thread(channel, ts)]
        page, cursor = page_of(shown, params, default_limit=1000)
        return {"ok": True, "messages": page, "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        # Top-level messages, newest first, between `oldest` and `latest` (exclusive unless
        # `inclusive`), `limit` a page; the cursor is an offset, opaque to clients as Slack's.
        channel = str(params.get("channel"))
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        latest, oldest = params.get("latest"), params.get("oldest")
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")

        def inside(ts: str) -> bool:
            if latest is not None and not (ts < str(latest) or (inclusive and ts == str(latest))):
                return False
            return oldest is None or float(ts) > float(oldest) or (
                inclusive and float(ts) == float(oldest))

        with self._lock:
            found = [
                as_read(m, params) for (c, ts), m in self.messages.items()
                if c == channel and m.get("thread_ts") in (None, ts) and inside(ts)
            ]
        found.sort(key=lambda m: ts_key(m["ts"]), reverse=True)
        page, cursor = page_of(found, params, default_limit=100)
        return {"ok": True, "messages": page, "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}
