"""The fake's HTTP server: a thin `http.server` handler around `Routes.route`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """What the fake answers one request with."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def json_reply(payload: dict[str, Any], status: int = 200,
               headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer, as the Web API gives."""
    return Reply(status, json.dumps(payload).encode(), "application/json", headers or {})


class Router(Protocol):
    """What the server asks of the fake (FakeSlack is one)."""

    def route(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> Reply: ...


def make_server(router: Router, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1:`port` (0: a free port) answering through `router`."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(router))
    server.daemon_threads = True
    return server


def _handler(router: Router) -> type[BaseHTTPRequestHandler]:
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
            headers = {"content-type": self.headers.get("Content-Type", ""),
                       "authorization": self.headers.get("Authorization", "")}
            reply = router.route(parts.path, parts.query, body, headers)
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler
