"""KeepAliveWebClient against a real local HTTP server: reuse, errors and dropped connections."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk.errors import SlackApiError

from commands import http_client
from commands.deps import build_client


class Server:
    """Answers Web API calls with ok, records (client port, method) for each request.

    `script` is a list of what to do with the next requests: an HTTP status to answer with,
    or "drop" to answer and then close the connection without saying so (as a server does
    with an idle keep-alive connection).
    """

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []
        self.script: list[int | str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.seen.append((self.client_address[1], self.path.rsplit("/", 1)[-1]))
                step = owner.script.pop(0) if owner.script else 200
                status = 200 if step == "drop" else step
                payload = {"ok": status == 200} | ({} if status == 200 else {"error": "boom"})
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)
                if step == "drop":
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"

    def ports(self) -> set[int]:
        return {port for port, _method in self.seen}


@pytest.fixture
def server():
    running = Server()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def test_calls_from_one_thread_share_one_connection(server):
    client = build_client("xoxb-test", server.url)
    assert isinstance(client, http_client.KeepAliveWebClient)
    for _ in range(20):
        assert client.api_call("auth.test")["ok"]
    assert len(server.seen) == 20 and len(server.ports()) == 1


def test_each_thread_has_its_own_connection(server):
    client = build_client("xoxb-test", server.url)

    def calls() -> None:
        for _ in range(5):
            client.api_call("auth.test")

    threads = [threading.Thread(target=calls) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.seen) == 15 and len(server.ports()) == 3


def test_rate_limits_and_server_errors_are_retried_by_slack_sdks_handlers(server):
    client = build_client("xoxb-test", server.url)
    server.script = [429, 500, 200]
    assert client.api_call("chat.postMessage")["ok"]
    assert [method for _port, method in server.seen] == ["chat.postMessage"] * 3


def test_a_slack_error_still_raises_slack_api_error(server):
    client = build_client("xoxb-test", server.url)
    server.script = [404]
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.postMessage")
    assert raised.value.response.status_code == 404
    assert client.api_call("auth.test")["ok"]  # the connection is usable afterwards


def test_a_connection_the_server_dropped_is_replaced_without_sending_twice(server):
    client = build_client("xoxb-test", server.url)
    server.script = ["drop", "drop"]
    for _ in range(4):
        assert client.api_call("chat.postMessage")["ok"]
    # Every call reached the server exactly once; the dropped connections were replaced.
    assert len(server.seen) == 4
    assert len(server.ports()) == 3


def test_idle_connections_are_not_reused(server, monkeypatch):
    monkeypatch.setattr(http_client, "IDLE_LIMIT_S", 0.0)
    client = build_client("xoxb-test", server.url)
    for _ in range(3):
        client.api_call("auth.test")
    assert len(server.ports()) == 3
