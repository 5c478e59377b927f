"""The fake workspace's state: people, channels, messages, files, and who watches them."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from bot.sandbox.slack_api.records import (
    BOT_ID,
    BOT_USER_ID,
    Call,
    FakeChannel,
    FakeUser,
    Fault,
    ts_key,
)


class SlackState:
    """What the fake holds; the method families (mixins beside this module) act on it."""

    def __init__(
        self,
        token: str | None = None,
        *,
        strict: bool = False,
        now: Callable[[], float] | None = None,
        workspace_url: str = "https://fake.slack.test/",
    ) -> None:
        self.expected_token = token
        self.strict = strict
        self.workspace_url = workspace_url
        self._now = now
        self._last_ts = 0  # microseconds of the last ts handed out (with `now`)
        self._listeners: list[Callable[[str, str | None], None]] = []
        # Messages only one person sees: chat.postEphemeral and ephemeral response_url answers.
        self.ephemerals: list[dict[str, Any]] = []
        # response_url name -> where its answers go ({"channel", "user", "thread_ts"}).
        self.response_targets: dict[str, dict[str, Any]] = {}
        # Socket Mode: apps.connections.open with this app-level token answers this URL.
        self.app_token: str | None = None
        self.socket_mode_url: str | None = None
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._ts_counter = itertools.count(1)
        self._file_counter = itertools.count(1)
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}  # file id -> the name it was uploaded with
        self.shared_files: list[dict[str, Any]] = []  # completed uploads, as files.list shows
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.openid_client: tuple[str, str] | None = None
        self.openid_user: dict[str, str] | None = None
        self._openid_codes: dict[str, dict[str, str]] = {}
        self._openid_tokens: dict[str, dict[str, str]] = {}
        self._openid_counter = itertools.count(1)

    def on_change(self, callback: Callable[[str, str | None], None]) -> None:
        """Call `callback(kind, channel)` after every change a person would see."""
        self._listeners.append(callback)

    def changed(self, kind: str, channel: str | None = None) -> None:
        """Tell the listeners that `channel` (None: something not in a channel) changed."""
        for callback in list(self._listeners):
            callback(kind, channel)

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def add_user(self, user_id: str, **kw: Any) -> FakeUser:
        """Make users.info know `user_id` (unknown users answer user_not_found)."""
        user = FakeUser(id=user_id, **kw)
        with self._lock:
            self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, **kw: Any) -> FakeChannel:
        """Make conversations.info know `channel_id`."""
        channel = FakeChannel(id=channel_id, **kw)
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def add_message(
        self, channel: str, ts: str, user: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Store a human message so conversations.replies/history can return it."""
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages[(channel, ts)] = message
        self.changed("message", channel)
        return message

    def add_reaction(self, channel: str, ts: str, user: str, name: str) -> str | None:
        """`user` reacts to a message with `name`; the Slack error, or None when added."""
        with self._lock:
            message = self.messages.get((channel, ts))
            if message is None:
                return "message_not_found"
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if entry is None:
                entry = {"name": name, "users": [], "count": 0}
                reactions.append(entry)
            if user in entry["users"]:
                return "already_reacted"
            entry["users"].append(user)
            entry["count"] = len(entry["users"])
        self.changed("reaction", channel)
        return None

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """A thread's root and replies, oldest first (what conversations.replies returns)."""
        with self._lock:
            found = [dict(m) for (c, ts), m in self.messages.items()
                     if c == channel and (ts == thread_ts or m.get("thread_ts") == thread_ts)]
        return sorted(found, key=lambda m: ts_key(m["ts"]))

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """A channel's top-level messages, oldest first, each with its thread's reply count."""
        with self._lock:
            top = [dict(m) for (c, ts), m in self.messages.items()
                   if c == channel and m.get("thread_ts") in (None, ts)]
            replies: dict[str, int] = {}
            for (c, ts), m in self.messages.items():
                parent = m.get("thread_ts")
                if c == channel and parent and parent != ts:
                    replies[parent] = replies.get(parent, 0) + 1
        for message in top:
            message["reply_count"] = replies.get(message["ts"], 0)
        return sorted(top, key=lambda m: ts_key(m["ts"]))

    def next_ts(self) -> str:
        """A new message ts: Slack's "seconds.micro" string, increasing in posting order."""
        if self._now is None:
            n = next(self._ts_counter)
            return f"{1_800_000_000 + n}.{n:06d}"
        with self._lock:
            micros = max(int(self._now() * 1_000_000), self._last_ts + 1)
            self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _refusal(self, channel: Any, *, post: bool = False) -> dict[str, Any] | None:
        """Slack's error for a call on `channel`, or None: channel_not_found for a missing
        (or, strict, unknown) channel; strict, not_in_channel for posting where the bot is
        not a member (Slack's answer without the chat:write.public scope)."""
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not self.strict:
            return None
        known = self.channels.get(str(channel))
        if known is None:
            return {"ok": False, "error": "channel_not_found"}
        if post and BOT_USER_ID not in known.members:
            return {"ok": False, "error": "not_in_channel"}
        return None

    def add_ephemeral(self, channel: str, user: str, text: str, blocks: Any,
                      thread_ts: str | None, ts: str) -> None:
        """A message only `user` sees in `channel` (and, with `thread_ts`, in that thread)."""
        entry = {"type": "message", "channel": channel, "user": BOT_USER_ID, "bot_id": BOT_ID,
                 "to": user, "text": text, "ts": ts, "ephemeral": True}
        if blocks:
            entry["blocks"] = blocks
        if thread_ts:
            entry["thread_ts"] = thread_ts
        with self._lock:
            self.ephemerals.append(entry)
        self.changed("ephemeral", channel)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        assert self._server is not None, "FakeSlack is not started"
        return f"http://127.0.0.1:{self._server.server_port}/"

    @property
    def api_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk needs."""
        return self.base_url + "api/"

    def response_url(self, name: str = "cmd") -> str:
        """A response_url to put in slash command / interactivity payloads."""
        return f"{self.base_url}response/{name}"
