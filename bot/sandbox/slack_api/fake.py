"""`FakeSlack`, a stand-in for the Slack Web API on 127.0.0.1: records every call and
answers like Slack.

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

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.slack_api.chat import ChatMethods
from bot.sandbox.slack_api.conversations import ConversationMethods
from bot.sandbox.slack_api.files import FileMethods
from bot.sandbox.slack_api.http import Reply, json_reply, make_server
from bot.sandbox.slack_api.openid import OpenIdMethods
from bot.sandbox.slack_api.records import Call, Fault, mimetype, parse_params
from bot.sandbox.slack_api.views import ViewMethods


class FakeSlack(ChatMethods, ConversationMethods, FileMethods, ViewMethods,
                OpenIdMethods):
    """The fake server; see the module docstring."""

    # ------------------------------------------------------------------ lifecycle
    def start(self, port: int = 0) -> FakeSlack:
        """Listen on 127.0.0.1:`port` (0: a random free port)."""
        self._server = make_server(self, port)
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
                Fault(status=status, remaining=times, retry_after=retry_after, error=error,
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
    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body Slack would return for `method` (after auth and faults)."""
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(params)

    # ------------------------------------------------------------------ requests
    def route(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> Reply:
        """The reply to one request (`headers`: content-type and authorization)."""
        if path == "/_calls":
            wanted = dict(parse_qsl(query)).get("method")
            return json_reply({"calls": [
                {"method": c.method, "params": c.params, "received_at": c.received_at}
                for c in self.calls(wanted)
            ]})
        if path.startswith("/upload/"):
            return self._upload(path.rsplit("/", 1)[-1], body)
        if path.startswith("/files/"):
            content = self.uploads.get(path.rsplit("/", 1)[-1])
            if content is None:
                return Reply(404, b"file_not_found")
            return Reply(200, content, mimetype(content))
        if path.startswith("/response/"):
            params = parse_params(query, body, headers["content-type"])
            name = path.rsplit("/", 1)[-1]
            self._record(Call("response_url", {**params, "_name": name}, None, body))
            self.answer_response_url(name, params)
            return Reply(200, b"ok")
        if path == "/openid/connect/authorize":
            status, where = self.openid_authorize(dict(parse_qsl(query, keep_blank_values=True)))
            if status == 302:
                return Reply(302, headers={"Location": where})
            return Reply(status, where.encode())
        if not path.startswith("/api/"):
            return Reply(404, b"not found")
        params = parse_params(query, body, headers["content-type"])
        return self._api(path[len("/api/"):], params, body, headers["authorization"])

    def _upload(self, file_id: str, body: bytes) -> Reply:
        with self._lock:
            self.uploads[file_id] = body
        self._record(Call("file_upload", {"file_id": file_id}, None, body))
        return Reply(200, b"OK - " + str(len(body)).encode())

    def _api(self, method: str, params: dict[str, Any], body: bytes, auth: str) -> Reply:
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        self._record(Call(method, params, token, body))
        fault = self._take_fault(method)
        if fault is not None:
            if fault.drop:
                self.answer(method, params)  # done, and the answer never arrives
                return Reply(0, drop=True)
            return _fault_reply(fault)
        if method == "openid.connect.token":  # client credentials, not a token
            return json_reply(self._openid_token(params, auth))
        if method == "openid.connect.userInfo":  # the signed-in user's own token
            return json_reply(self._openid_userinfo(token))
        if not token:
            return json_reply({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open":  # the app-level token, not the bot's
            if self.socket_mode_url and token == self.app_token:
                return json_reply({"ok": True, "url": self.socket_mode_url})
            return json_reply({"ok": False, "error": "invalid_auth"})
        if self.expected_token is not None and token != self.expected_token:
            return json_reply({"ok": False, "error": "invalid_auth"})
        return json_reply(self.answer(method, params))


def _fault_reply(fault: Fault) -> Reply:
    if fault.status == 200:
        return json_reply({"ok": False, "error": fault.error or "fatal_error"})
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
    return json_reply({"ok": False, "error": error}, fault.status, headers)
