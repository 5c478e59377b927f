"""A stand-in for the Slack Web API on 127.0.0.1: records every call and answers like Slack.

One implementation serves two users: the tests (``tests/e2e`` point the real bot at it) and
``slabot demo`` (bot/sandbox/demo.py), whose sandbox page shows what the bot posted here.
What it answers follows Slack's method reference: argument names, ``ok``/``error`` bodies
(``channel_not_found``, ``not_in_channel``, ``no_text``, ``invalid_auth``, ...), ``ts`` values
as "seconds.micro" strings and cursor paging in ``response_metadata.next_cursor``.
``strict=True`` (the sandbox) also refuses unknown channels and channels the bot is not in,
as Slack does; the tests' default leaves channels unchecked so a test need not declare each.
``now=time.time`` makes ``ts`` values wall-clock instants (the sandbox) instead of a counter.

Start it with ``FakeSlack()`` (as a context manager or ``start()``/``stop()``); point the bot's
``SLACK_API_URL`` at ``fake.api_url`` (``http://127.0.0.1:<port>/api/``). Every call is recorded
as a ``Call(method, params, token)``; tests assert on ``fake.calls("chat.postMessage")`` or wait
for asynchronous work with ``fake.wait_for(...)``. Faults on demand: ``fake.fail("chat.update",
status=429, times=2, retry_after=1)`` or ``status=500``; ``fake.fail("chat.postMessage",
drop=True)`` carries the call out and then closes the connection without answering (the
caller cannot know it worked); ``fake.heal(method)`` ends a spell of faults early.

It also serves the two non-API URLs Slack hands out: ``response_url`` targets
(``fake.response_url(...)``, recorded as method ``"response_url"``) and the external file
upload URLs returned by ``files.getUploadURLExternal`` (recorded as ``"file_upload"``).

Sign in with Slack (OpenID Connect): ``fake.enable_openid(client_id, client_secret)`` and
``fake.sign_in_as(user_id, team_id=..., name=...)``; then ``GET /openid/connect/authorize``
(recorded as ``"openid.authorize"``) redirects straight back to the ``redirect_uri`` with a
code and the state, ``openid.connect.token`` (HTTP Basic client credentials) exchanges the
code once for an access token and an ID token carrying the nonce, and
``openid.connect.userInfo`` answers with the user id, team id and name.

Another process can read the record at ``GET /_calls?method=...`` (JSON), and the fake runs
on its own with ``python -m bot.sandbox.slack_api --port 0`` (the benchmark does this so the
fake does not share a GIL with the process it measures).

Whoever shows the workspace (the sandbox page) registers ``on_change(callback)``: it is called
with ``(kind, channel)`` after every call that changed what a person would see.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    body: bytes = b""
    received_at: float = field(default_factory=time.time)

    def json_param(self, name: str) -> Any:
        """A parameter that Slack accepts either as JSON text (form posts) or as a value."""
        value = self.params.get(name)
        if isinstance(value, str) and value[:1] in "[{":
            return json.loads(value)
        return value


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    error: str | None = None
    drop: bool = False  # carry the call out, then close the connection unanswered


@dataclass
class FakeUser:
    """A workspace member as users.info describes it."""

    id: str
    name: str = "someone"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    tz: str = "Europe/Berlin"

    def as_slack(self) -> dict[str, Any]:
        """The ``user`` object of users.info."""
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.name.title(),
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "profile": {"display_name": self.name, "real_name": self.name.title()},
        }


@dataclass
class FakeChannel:
    """A conversation as conversations.info describes it."""

    id: str
    name: str = "support"
    is_private: bool = False
    members: list[str] = field(default_factory=list)
    bot_is_member: bool = True  # outside strict mode: conversations.info's is_member
    is_im: bool = False

    def as_slack(self, bot_member: bool) -> dict[str, Any]:
        """The ``channel`` object of conversations.info."""
        found: dict[str, Any] = {"id": self.id, "created": 1_700_000_000}
        if self.is_im:
            others = [m for m in self.members if m != BOT_USER_ID]
            found.update(is_im=True, is_channel=False, is_private=True,
                         user=others[0] if others else None)
        else:
            found.update(name=self.name, is_channel=not self.is_private,
                         is_private=self.is_private, is_im=False, is_member=bot_member)
        return found


class FakeSlack:
    """The fake server; see the module docstring."""

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
        self._faults: dict[str, list[_Fault]] = {}
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

    # ------------------------------------------------------------------ listeners
    def on_change(self, callback: Callable[[str, str | None], None]) -> None:
        """Call `callback(kind, channel)` after every change a person would see."""
        self._listeners.append(callback)

    def changed(self, kind: str, channel: str | None = None) -> None:
        """Tell the listeners that `channel` (None: something not in a channel) changed."""
        for callback in list(self._listeners):
            callback(kind, channel)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        """Listen on a random free port on 127.0.0.1."""
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        assert self._server is not None, "FakeSlack is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def api_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk needs."""
        return self.base_url + "api/"

    def response_url(self, name: str = "cmd") -> str:
        """A response_url to put in slash command / interactivity payloads."""
        return f"{self.base_url}response/{name}"

    # ------------------------------------------------------------------ set-up helpers
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
        return sorted(found, key=lambda m: _ts_key(m["ts"]))

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
        return sorted(top, key=lambda m: _ts_key(m["ts"]))

    def enable_openid(self, client_id: str, client_secret: str) -> None:
        """Accept Sign in with Slack for this app's client credentials."""
        self.openid_client = (client_id, client_secret)

    def sign_in_as(self, user_id: str, *, team_id: str = TEAM_ID, name: str = "someone") -> None:
        """Who the authorize page signs in next (as if they clicked "Allow")."""
        self.openid_user = {"user_id": user_id, "team_id": team_id, "name": name}

    def _openid_authorize(self, params: dict[str, Any]) -> tuple[int, str]:
        """Status and Location (or error text) of the authorize page."""
        if self.openid_client is None or params.get("client_id") != self.openid_client[0]:
            return 400, "invalid_client_id"
        if params.get("response_type") != "code" or "openid" not in str(
                params.get("scope", "")).split():
            return 400, "invalid_request"
        redirect = str(params.get("redirect_uri") or "")
        if not redirect or self.openid_user is None:
            return 400, "invalid_request"
        code = f"code-{next(self._openid_counter)}"
        with self._lock:
            self._openid_codes[code] = {**self.openid_user, "nonce": str(params.get("nonce", "")),
                                        "redirect_uri": redirect}
        query = urlencode({"code": code, "state": params.get("state", "")})
        return 302, f"{redirect}{'&' if '?' in redirect else '?'}{query}"

    def _openid_token(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if self.openid_client is None or (client_id, client_secret) != self.openid_client:
            return {"ok": False, "error": "invalid_client"}
        with self._lock:
            grant = self._openid_codes.pop(str(params.get("code")), None)  # a code works once
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if params.get("redirect_uri") != grant["redirect_uri"]:
            return {"ok": False, "error": "bad_redirect_uri"}
        access = f"xoxp-openid-{next(self._openid_counter)}"
        with self._lock:
            self._openid_tokens[access] = grant
        now = int(time.time())
        claims = {
            "iss": "https://slack.com", "sub": grant["user_id"], "aud": client_id,
            "exp": now + 3600, "iat": now, "auth_time": now, "nonce": grant["nonce"],
            "https://slack.com/user_id": grant["user_id"],
            "https://slack.com/team_id": grant["team_id"], "name": grant["name"],
        }
        id_token = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "RS256", "typ": "JWT", "kid": "fake"}, claims)
        ) + ".ZmFrZS1zaWduYXR1cmU"
        return {"ok": True, "access_token": access, "token_type": "Bearer",
                "id_token": id_token}

    def _openid_userinfo(self, token: str | None) -> dict[str, Any]:
        grant = self._openid_tokens.get(token or "")
        if grant is None:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True, "sub": grant["user_id"],
            "https://slack.com/user_id": grant["user_id"],
            "https://slack.com/team_id": grant["team_id"], "name": grant["name"],
        }

    def fail(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
        drop: bool = False,
    ) -> None:
        """Answer the next `times` calls of `method` with HTTP `status` (429 gets Retry-After).

        With ``status=200`` and an ``error``, answer ``{"ok": false, "error": error}`` instead.
        With ``drop``, carry each call out and then close the connection without an answer.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(status=status, remaining=times, retry_after=retry_after, error=error,
                       drop=drop)
            )

    def heal(self, method: str) -> None:
        """End every fault still planned for `method` (a spell of 500s is over)."""
        with self._lock:
            self._faults.pop(method, None)

    # ------------------------------------------------------------------ inspection
    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls, oldest first, optionally only of one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        """Forget the recorded calls (users, channels and messages stay)."""
        with self._lock:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until at least `count` matching calls were recorded (listeners run async)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls()]
                raise AssertionError(
                    f"expected {count} {method} call(s), got {len(found)} within {timeout}s; "
                    f"calls seen: {seen}"
                )
            time.sleep(0.02)

    # ------------------------------------------------------------------ answering
    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

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

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body Slack would return for `method` (after auth and faults)."""
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(params)

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
        page, cursor = _page(list(channel.members), params, default_limit=100)
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

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "ts": ts,
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("blocks") is not None:
            message["blocks"] = _maybe_json(params["blocks"])
        if params.get("metadata") is not None:
            message["metadata"] = _maybe_json(params["metadata"])
        with self._lock:
            self.messages[(str(channel), ts)] = message
        self.changed("message", str(channel))
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(params.get("channel"))
        if refused:
            return refused
        key = (str(params.get("channel")), str(params.get("ts")))
        edited_ts = self.next_ts()
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("user") != BOT_USER_ID:
                return {"ok": False, "error": "cant_update_message"}
            message["text"] = params.get("text", message.get("text", ""))
            if params.get("blocks") is not None:
                message["blocks"] = _maybe_json(params["blocks"])
            message["edited"] = {"user": BOT_USER_ID, "ts": edited_ts}
        self.changed("update", key[0])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"],
                "message": dict(message)}

    def _api_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(params.get("channel"))
        if refused:
            return refused
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("user") != BOT_USER_ID:
                return {"ok": False, "error": "cant_delete_message"}
            del self.messages[key]
        self.changed("delete", key[0])
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = params.get("channel"), params.get("user")
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        if not user:
            return {"ok": False, "error": "user_not_found"}
        known = self.channels.get(str(channel))
        if self.strict and known is not None and user not in known.members:
            return {"ok": False, "error": "user_not_in_channel"}
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        self._add_ephemeral(str(channel), str(user), params.get("text", ""),
                            _maybe_json(params.get("blocks")), params.get("thread_ts"), ts)
        return {"ok": True, "message_ts": ts}

    def _add_ephemeral(self, channel: str, user: str, text: str, blocks: Any,
                       thread_ts: str | None, ts: str) -> None:
        entry = {"type": "message", "channel": channel, "user": BOT_USER_ID, "bot_id": BOT_ID,
                 "to": user, "text": text, "ts": ts, "ephemeral": True}
        if blocks:
            entry["blocks"] = blocks
        if thread_ts:
            entry["thread_ts"] = thread_ts
        with self._lock:
            self.ephemerals.append(entry)
        self.changed("ephemeral", channel)

    def _api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts", ""))
        refused = self._refusal(channel)
        if refused:
            return refused
        if self.strict and (str(channel), ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"{self.workspace_url}archives/{channel}/p{ts.replace('.', '')}",
        }

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        with self._lock:
            root = self.messages.get((channel, ts))
        if root is None:
            return {"ok": False, "error": "thread_not_found"}
        shown = [_shown(m, params) for m in self.thread(channel, ts)]
        page, cursor = _page(shown, params, default_limit=1000)
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
                _shown(m, params) for (c, ts), m in self.messages.items()
                if c == channel and m.get("thread_ts") in (None, ts) and inside(ts)
            ]
        found.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)
        page, cursor = _page(found, params, default_limit=100)
        return {"ok": True, "messages": page, "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def _api_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts, name = params.get("channel"), params.get("timestamp"), params.get("name")
        if not ts:
            return {"ok": False, "error": "no_item_specified"}
        if not name:
            return {"ok": False, "error": "invalid_name"}
        refused = self._refusal(channel)
        if refused:
            return refused
        error = self.add_reaction(str(channel), str(ts), BOT_USER_ID, str(name).strip(":"))
        if error == "message_not_found" and not self.strict:
            return {"ok": True}  # the tests' messages need not exist
        return {"ok": False, "error": error} if error else {"ok": True}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _maybe_json(params.get("view"))
        user = str(params.get("user_id"))
        if not isinstance(view, dict) or not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if self.strict and user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        with self._lock:
            self.views[user] = view
        self.changed("home", None)
        return {"ok": True, "view": {"id": "V" + user, **(view or {})}}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VMODAL", **(_maybe_json(params.get("view")) or {})}}

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_counter):07d}"
        with self._lock:
            self.file_names[file_id] = str(params["filename"])
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _api_files_list(self, params: dict[str, Any]) -> dict[str, Any]:
        # Newest first, like Slack; `channel` and `ts_from` filter (paging left out).
        channel, since = params.get("channel"), float(params.get("ts_from") or 0)
        with self._lock:
            found = [dict(f) for f in self.shared_files
                     if (channel is None or channel in f["channels"]) and f["created"] >= since]
        found.reverse()
        return {"ok": True, "files": found[:int(params.get("count") or 100)],
                "paging": {"count": len(found), "total": len(found), "page": 1, "pages": 1}}

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = _maybe_json(params.get("files")) or []
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        missing = [f.get("id") for f in files if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        channel = params.get("channel_id") or params.get("channels")
        if channel:
            refused = self._refusal(channel, post=True)
            if refused:
                return refused
        with self._lock:
            for f in files:
                self.shared_files.append({
                    "id": f["id"], "name": self.file_names.get(f["id"]), "title": f.get("title"),
                    "channels": [channel], "created": int(time.time()),
                })
        shown = [{"id": f["id"], "title": f.get("title"),
                  "name": self.file_names.get(f["id"]) or f.get("title"),
                  "mimetype": _mimetype(self.uploads[f["id"]]),
                  "size": len(self.uploads[f["id"]]),
                  "url_private": f"{self.base_url}files/{f['id']}"} for f in files]
        if channel:
            # Shared into the channel (or thread): Slack posts it as a message with the files.
            ts = self.next_ts()
            message: dict[str, Any] = {"type": "message", "subtype": "file_share",
                                       "user": BOT_USER_ID, "bot_id": BOT_ID,
                                       "text": params.get("initial_comment") or "",
                                       "ts": ts, "files": shown}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            with self._lock:
                self.messages[(str(channel), ts)] = message
            self.changed("message", str(channel))
        return {"ok": True, "files": shown}

    def answer_response_url(self, name: str, params: dict[str, Any]) -> None:
        """Carry out an answer sent to a registered response_url, as Slack does: in_channel
        posts a message as the app, anything else is an ephemeral for the person who acted."""
        target = self.response_targets.get(name)
        if target is None:
            return
        text = params.get("text") or ""
        blocks = _maybe_json(params.get("blocks"))
        channel, user, thread_ts = target["channel"], target["user"], target.get("thread_ts")
        if params.get("response_type") == "in_channel":
            ts = self.next_ts()
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": text,
                       "ts": ts}
            if blocks:
                message["blocks"] = blocks
            if thread_ts:
                message["thread_ts"] = thread_ts
            with self._lock:
                self.messages[(channel, ts)] = message
            self.changed("message", channel)
            return
        self._add_ephemeral(channel, user, text, blocks, thread_ts, self.next_ts())


def _ts_key(ts: str) -> tuple[int, int]:
    """A ts as a number pair that sorts like Slack's ("seconds.micro")."""
    seconds, _, micros = str(ts).partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


def _page(items: list[Any], params: dict[str, Any], *, default_limit: int
          ) -> tuple[list[Any], str]:
    """One page of `items` by Slack's `limit`/`cursor` and the next cursor ("" at the end).
    Cursors are opaque to clients (here base64 of an offset, as Slack's look)."""
    try:
        limit = max(1, min(int(params.get("limit") or default_limit), 1000))
    except (TypeError, ValueError):
        limit = default_limit
    start = 0
    if params.get("cursor"):
        try:
            start = int(base64.b64decode(str(params["cursor"])).decode().removeprefix("next:"))
        except (ValueError, UnicodeDecodeError):
            start = 0
    end = start + limit
    cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], cursor


def _mimetype(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content[:5].lower() in (b"<?xml", b"<svg "):
        return "image/svg+xml"
    return "text/plain" if _is_text(content) else "application/octet-stream"


def _is_text(content: bytes) -> bool:
    try:
        content[:1000].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _shown(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A stored message as a read returns it: metadata only with include_all_metadata."""
    shown = dict(message)
    if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
        shown.pop("metadata", None)
    return shown


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    if "application/json" in content_type:
        loaded = json.loads(body.decode("utf-8"))
        if isinstance(loaded, dict):
            params.update(loaded)
    elif "application/x-www-form-urlencoded" in content_type:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this a keep-alive client can wait for Nagle and delayed ACKs (~40 ms) on a
        # call, which Slack's servers never make it do.
        disable_nagle_algorithm = True
        # A buffered response: headers and body leave in one write (handle_one_request
        # flushes after every request), one segment instead of two for the client to read.
        wbufsize = -1

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = parts.path
            if path == "/_calls":
                wanted = dict(parse_qsl(parts.query)).get("method")
                self._send_json(200, {"calls": [
                    {"method": c.method, "params": c.params, "received_at": c.received_at}
                    for c in fake.calls(wanted)
                ]})
                return
            if path.startswith("/upload/"):
                file_id = path.rsplit("/", 1)[-1]
                with fake._lock:
                    fake.uploads[file_id] = body
                fake._record(Call("file_upload", {"file_id": file_id}, None, body))
                self._send(200, b"OK - " + str(len(body)).encode(), "text/plain")
                return
            if path.startswith("/files/"):
                content = fake.uploads.get(path.rsplit("/", 1)[-1])
                if content is None:
                    self._send(404, b"file_not_found", "text/plain")
                else:
                    self._send(200, content, _mimetype(content))
                return
            if path.startswith("/response/"):
                params = _parse_params(parts.query, body, self.headers.get("Content-Type", ""))
                name = path.rsplit("/", 1)[-1]
                fake._record(Call("response_url", {**params, "_name": name}, None, body))
                fake.answer_response_url(name, params)
                self._send(200, b"ok", "text/plain")
                return
            if path == "/openid/connect/authorize":
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                fake._record(Call("openid.authorize", params, None, body))
                status, where = fake._openid_authorize(params)
                if status == 302:
                    self._send(302, b"", "text/plain", {"Location": where})
                else:
                    self._send(status, where.encode(), "text/plain")
                return
            if not path.startswith("/api/"):
                self._send(404, b"not found", "text/plain")
                return
            method = path[len("/api/"):]
            params = _parse_params(parts.query, body, self.headers.get("Content-Type", ""))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() or params.get("token")
            fake._record(Call(method, params, token, body))
            fault = fake._take_fault(method)
            if fault is not None and fault.drop:
                fake.answer(method, params)  # done, and the answer never arrives
                self.close_connection = True
                return
            if fault is not None:
                if fault.status == 200:
                    self._send_json(200, {"ok": False, "error": fault.error or "fatal_error"})
                    return
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                payload = {"ok": False, "error": fault.error or (
                    "ratelimited" if fault.status == 429 else "internal_error")}
                self._send_json(fault.status, payload, headers)
                return
            if method == "openid.connect.token":  # client credentials, not a token
                self._send_json(200, fake._openid_token(params, auth))
                return
            if method == "openid.connect.userInfo":  # the signed-in user's own token
                self._send_json(200, fake._openid_userinfo(token))
                return
            if not token:
                self._send_json(200, {"ok": False, "error": "not_authed"})
                return
            if method == "apps.connections.open":  # the app-level token, not the bot's
                if fake.socket_mode_url and token == fake.app_token:
                    self._send_json(200, {"ok": True, "url": fake.socket_mode_url})
                else:
                    self._send_json(200, {"ok": False, "error": "invalid_auth"})
                return
            if fake.expected_token is not None and token != fake.expected_token:
                self._send_json(200, {"ok": False, "error": "invalid_auth"})
                return
            self._send_json(200, fake.answer(method, params))

        def _send_json(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main() -> None:
    """Serve the fake until interrupted, printing its API URL on the first line."""
    import argparse

    parser = argparse.ArgumentParser(description="fake Slack Web API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=None, help="the only bot token accepted")
    args = parser.parse_args()
    fake = FakeSlack(token=args.token)
    handler = _make_handler(fake)
    fake._server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    fake._server.daemon_threads = True
    print(fake.api_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        fake._server.serve_forever()


if __name__ == "__main__":
    main()
