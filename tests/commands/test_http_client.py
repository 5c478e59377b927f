"""KeepAliveWebClient against a real local HTTP server: reuse, errors and dropped connections."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import URLError

import pytest
import trustme
from slack_sdk.errors import SlackApiError

from commands import http_client
from commands.deps import build_client
from commands.http_client import KeepAliveWebClient


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


# ------------------------------------------------------------ the transport, byte by byte
class RawServer:
    """Answers each request with the next scripted bytes, in the pieces given (several
    writes with pauses exercise partial reads). "close" closes the connection instead of
    answering; `then_close(answer)` answers, then closes."""

    def __init__(self, script: list, *, tls=None) -> None:
        self.script = list(script)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.tls = tls
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.listener.getsockname()[1]}/api/"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except ssl.SSLError:  # a client that does not trust us hangs up
                conn.close()
                return
        buffered = b""
        with conn:
            while self.script:
                while b"\r\n\r\n" not in buffered:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffered += data
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                while len(buffered) < length:
                    buffered += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buffered[:length])
                buffered = buffered[length:]
                step = self.script.pop(0)
                if step == "close":
                    return
                closing = isinstance(step, tuple)
                for piece in step[1] if closing else step if isinstance(step, list) else [step]:
                    conn.sendall(piece)
                    time.sleep(0.01)
                if closing:
                    return

    def close(self) -> None:
        self.listener.close()


def then_close(answer: bytes | list[bytes]) -> tuple[str, list[bytes]]:
    return ("then-close", answer if isinstance(answer, list) else [answer])


def ok(body: bytes = b'{"ok": true, "ts": "1.1"}', *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json; charset=utf-8",
            b"Content-Length: " + str(len(body)).encode(), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@pytest.fixture
def raw():
    servers = []

    def start(script, **kw):
        servers.append(RawServer(script, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_request_is_one_write_with_host_length_and_slack_sdks_headers(raw):
    server = raw([ok()])
    client = build_client("xoxb-test", server.url)
    client.chat_postMessage(channel="C1", text="hello")
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /api/chat.postMessage HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.listener.getsockname()[1]}".encode() in lines
    assert b"Authorization: Bearer xoxb-test" in lines
    assert b"Content-Type: application/json;charset=utf-8" in lines
    assert json.loads(body) == {"channel": "C1", "text": "hello"}
    assert f"Content-Length: {len(body)}".encode() in lines


def test_form_encoded_calls_and_calls_without_a_body(raw):
    server = raw([ok(), ok()])
    client = build_client("xoxb-test", server.url)
    client.api_call("users.info", params={"user": "U1"})
    client.api_call("auth.test")
    first, second = (request.partition(b"\r\n\r\n") for request in server.requests)
    assert b"Content-Type: application/x-www-form-urlencoded" in first[0]
    assert first[2] == b"user=U1"
    assert b"Content-Length: 0" in second[0] and second[2] == b""


def test_answers_arriving_in_pieces_chunked_or_with_interim_100_are_read_whole(raw):
    payload = json.dumps({"ok": True, "messages": ["x" * 5000]}).encode()
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: application/json\r\n\r\n"
               + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part)
                          for part in (payload[:7], payload[7:4000], payload[4000:]))
               + b"0\r\nX-Trailer: yes\r\n\r\n")
    split = ok(payload)
    server = raw([
        [split[:10], split[10:60], split[60:3000], split[3000:]],
        [chunked[:5], chunked[5:]],
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(),
        ok(),
    ])
    client = build_client("xoxb-test", server.url)
    for _ in range(2):
        assert client.api_call("conversations.history")["messages"] == ["x" * 5000]
    assert client.api_call("auth.test")["ts"] == "1.1"
    assert client.api_call("auth.test")["ok"]
    assert server.connections == 1  # all on one kept-alive connection


def test_an_answer_without_length_is_read_to_the_end_and_the_connection_replaced(raw):
    body = b'{"ok": true, "ts": "9.9"}'
    server = raw([then_close(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body),
                  then_close(ok(b'{"ok": true}', b"Connection: close")), ok()])
    client = build_client("xoxb-test", server.url)
    assert client.api_call("auth.test")["ts"] == "9.9"
    assert client.api_call("auth.test")["ok"]
    assert client.api_call("auth.test")["ok"]
    assert server.connections == 3


def test_repeated_headers_and_other_charsets(raw):
    text = '{"ok": true, "name": "Zoë"}'.encode("latin-1")
    server = raw([b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=ISO-8859-1\r\n"
                  b"X-Accepted-OAuth-Scopes: chat:write\r\nx-accepted-oauth-scopes: users:read\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(text), text)])
    client = build_client("xoxb-test", server.url)
    response = client.api_call("users.info")
    assert response["name"] == "Zoë"
    assert response.headers["X-Accepted-OAuth-Scopes"] == "chat:write, users:read"


def test_a_429_waits_as_retry_after_says_then_succeeds(raw):
    limited = (b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\nContent-Length: 42\r\n\r\n"
               b'{"ok": false, "error": "ratelimited"}     ')
    server = raw([limited, ok()])
    client = build_client("xoxb-test", server.url)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 2


def test_a_502_is_not_retried_and_raises_slack_api_error_with_the_body(raw):
    body = b'{"ok": false, "error": "bad_gateway"}'
    server = raw([b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
                  ok()])
    client = build_client("xoxb-test", server.url)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 502
    assert raised.value.response["error"] == "bad_gateway"
    assert len(server.requests) == 1
    assert client.api_call("auth.test")["ok"]
    assert server.connections == 1


def test_an_html_error_page_becomes_a_slack_api_error_not_a_crash(raw):
    page = b"<html>upstream down</html>"
    server = raw([b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(page), page)])
    client = build_client("xoxb-test", server.url)
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.postMessage")
    assert raised.value.response.status_code == 404
    assert "upstream down" in raised.value.response["error"]


def test_garbage_instead_of_http_raises_and_the_next_call_gets_a_fresh_connection(raw):
    server = raw([b"SSH-2.0-OpenSSH\r\n\r\n", ok()])
    client = build_client("xoxb-test", server.url)
    with pytest.raises(http.client.HTTPException):
        client.api_call("auth.test")
    assert client.api_call("auth.test")["ok"]
    assert server.connections == 2


def test_a_connection_closed_mid_answer_is_an_error_not_a_resend(raw):
    server = raw([then_close(ok()[:30]), ok()])
    client = build_client("xoxb-test", server.url)
    with pytest.raises(http.client.HTTPException):
        client.chat_postMessage(channel="C1", text="x")
    # The request may have been processed: it is not sent again.
    assert len(server.requests) == 1


def test_nothing_listening_raises_after_the_connection_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = build_client("xoxb-test", f"http://127.0.0.1:{port}/api/")
    started = time.monotonic()
    with pytest.raises(URLError):
        client.api_call("auth.test")
    assert time.monotonic() - started < 10


def test_tls(raw):
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    server = raw([ok(), ok()], tls=server_context)
    client = KeepAliveWebClient(token="xoxb-test", base_url=server.url, ssl=client_context)
    assert client.api_call("auth.test")["ok"] and client.api_call("auth.test")["ok"]
    assert server.connections == 1
    untrusting = KeepAliveWebClient(token="xoxb-test", base_url=server.url)
    with pytest.raises(URLError):
        untrusting.api_call("auth.test")


def test_a_line_break_in_a_header_is_refused_before_anything_is_sent(raw):
    server = raw([ok()])
    client = KeepAliveWebClient(token="xoxb-test\r\nX-Injected: yes", base_url=server.url)
    with pytest.raises(ValueError, match="line break"):
        client.api_call("auth.test")
    assert server.requests == [] and server.connections == 0
