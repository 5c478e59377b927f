"""A Slack Web API client that keeps its connections open between calls.

slack_sdk's WebClient sends each call through `urllib.request.urlopen`, which opens a new TCP
connection, and against Slack a new TLS session, for every call and closes it after. The bot
makes one call per ticket card, card update and nudge, so that handshake is most of a call's
cost. `KeepAliveWebClient` changes only the transport: each thread keeps one persistent
`http.client` connection per host, everything else (request building, retry handlers for 429
and 5xx, response parsing) is slack_sdk's own. Non-2xx answers raise `HTTPError` exactly as
urlopen does, so slack_sdk's error and retry paths see what they always see.

It overrides `_perform_urllib_http_request_internal`, slack_sdk's seam between building a
request and reading the answer (stable across slack_sdk 3.x; every test that talks to the fake
Slack goes through it). With a proxy configured it falls back to slack_sdk's own transport.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# Drop a connection idle this long instead of reusing it: servers close idle keep-alive
# connections after a while, and a request sent on one of those would fail.
IDLE_LIMIT_S = 20.0


class _Pool(threading.local):
    def __init__(self) -> None:
        self.connections: dict[tuple[str, str, int], tuple[http.client.HTTPConnection, float]] = {}


class KeepAliveWebClient(WebClient):
    """`slack_sdk.WebClient` with per-thread persistent connections (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = _Pool()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (parts.scheme, parts.hostname or "", parts.port or 0)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(req.header_items())
        connection, reused = self._connection(key)
        try:
            connection.request(req.get_method(), path, body=req.data, headers=headers)
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._drop(key)
            if not reused:
                raise
            # The server had closed the idle connection before reading the request: send it
            # again once on a fresh one (nothing was processed, nothing can be doubled).
            connection, _ = self._connection(key)
            try:
                connection.request(req.get_method(), path, body=req.data, headers=headers)
                response = connection.getresponse()
            except BaseException:
                self._drop(key)
                raise
        except BaseException:
            self._drop(key)
            raise
        try:
            body = response.read()
        except BaseException:
            self._drop(key)
            raise
        if response.will_close:
            self._drop(key)
        else:
            self._pool.connections[key] = (connection, time.monotonic())
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, response.headers,
                            io.BytesIO(body))
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        charset = response.headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.headers,
                "body": body.decode(charset)}

    def _connection(self, key: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
        found = self._pool.connections.get(key)
        if found is not None:
            connection, last_used = found
            if time.monotonic() - last_used < IDLE_LIMIT_S:
                return connection, True
            self._drop(key)
        scheme, host, port = key
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port or None, timeout=self.timeout, context=self.ssl
            )
        else:
            connection = http.client.HTTPConnection(host, port or None, timeout=self.timeout)
        self._pool.connections[key] = (connection, time.monotonic())
        return connection, False

    def _drop(self, key: tuple[str, str, int]) -> None:
        found = self._pool.connections.pop(key, None)
        if found is not None:
            found[0].close()
