"""A fake Slack Web API on 127.0.0.1 for tests: records every call and answers like Slack.

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
on its own with ``python -m tests.fakes.slack_api --port 0`` (the benchmark does this so the
fake does not share a GIL with the process it measures).
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


class FakeSlack:
    """The fake server; see the module docstring."""

    def __init__(self, token: str | None = None) -> None:
        self.expected_token = token
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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.openid_client: tuple[str, str] | None = None
        self.openid_user: dict[str, str] | None = None
        self._openid_codes: dict[str, dict[str, str]] = {}
        self._openid_tokens: dict[str, dict[str, str]] = {}
        self._openid_counter = itertools.count(1)

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
        return message

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

    def _next_ts(self) -> str:
        # Slack ts values are "seconds.micro" strings that sort in posting order.
        n = next(self._ts_counter)
        return f"{1_800_000_000 + n}.{n:06d}"

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body Slack would return for `method` (after auth and faults)."""
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(params)

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
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
        return {
            "ok": True,
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.is_private,
                "is_private": channel.is_private,
                "is_member": True,
            },
        }

    def _api_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "members": list(channel.members), "response_metadata": {}}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + str(users).split(",")[0].lstrip("U")}}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
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
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message["text"] = params.get("text", message.get("text", ""))
            if params.get("blocks") is not None:
                message["blocks"] = _maybe_json(params["blocks"])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"],
                "message": dict(message)}

    def _api_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._lock:
            if self.messages.pop(key, None) is None:
                return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.test/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        with self._lock:
            root = self.messages.get((channel, ts))
            if root is None:
                return {"ok": False, "error": "thread_not_found"}
            replies = sorted(
                (m for (c, _), m in self.messages.items()
                 if c == channel and m.get("thread_ts") == ts and m["ts"] != ts),
                key=lambda m: m["ts"],
            )
        limit = int(params.get("limit") or 1000)
        shown = [_shown(m, params) for m in (root, *replies)]
        return {"ok": True, "messages": shown[:limit], "has_more": False}

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        # Top-level messages, newest first, between `oldest` and `latest` (exclusive unless
        # `inclusive`), `limit` a page; the cursor is an offset, opaque to clients as Slack's.
        channel = str(params.get("channel"))
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
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        more = len(found) > start + limit
        return {"ok": True, "messages": found[start:start + limit], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _api_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _maybe_json(params.get("view"))
        user = str(params.get("user_id"))
        with self._lock:
            self.views[user] = view
        return {"ok": True, "view": {"id": "V" + user, **(view or {})}}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VMODAL", **(_maybe_json(params.get("view")) or {})}}

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_counter):07d}"
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = _maybe_json(params.get("files")) or []
        missing = [f["id"] for f in files if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "files": [
                {"id": f["id"], "title": f.get("title"), "size": len(self.uploads[f["id"]])}
                for f in files
            ],
        }


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
            if path.startswith("/response/"):
                params = _parse_params(parts.query, body, self.headers.get("Content-Type", ""))
                params["_name"] = path.rsplit("/", 1)[-1]
                fake._record(Call("response_url", params, None, body))
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
