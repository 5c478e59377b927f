"""A Slack Web API client with a lean keep-alive transport.

slack_sdk's WebClient sends each call through `urllib.request.urlopen`: a new TCP connection
(against Slack a new TLS session) per call, `http.client`'s request assembly in several
writes, and an answer parsed by the `email` package. The bot makes one call per ticket card,
card update and nudge, so that machinery is most of what a call costs; measured against the
fake Slack, a card post took ~430 us of client CPU, ~100 us of which is the request itself.

`KeepAliveWebClient` replaces the transport and keeps everything else of slack_sdk's (the
methods, request bodies, `SlackResponse`, `SlackApiError`, the retry handlers):

- each thread keeps one persistent connection per host; a request is written in one
  `sendall` and its answer parsed with bytes operations (status line, headers, a body sized
  by Content-Length, chunked, or up to the end of the connection);
- a connection found closed by the server before it answered (an idle keep-alive the server
  dropped) is replaced and the request sent once more: nothing was processed, nothing can be
  doubled. Connections idle longer than `IDLE_LIMIT_S` are not reused at all;
- the retry handlers are asked about errors exactly as slack_sdk asks them: a non-2xx answer
  as an `HTTPError` with its response (429 and its Retry-After, 500/503), a connection that
  could not be made as a `URLError`, a dropped one as `RemoteDisconnected`. A 2xx answer is
  returned without asking them (the handlers `build_client` installs never retry a success,
  and slack_sdk would decode the body once more just to show it to them).

Calls that send files (multipart bodies) and clients with a proxy go through slack_sdk's own
transport, unchanged.
"""

from __future__ import annotations

import functools
import io
import json
import socket
import ssl
import threading
import time
from http.client import HTTPException, HTTPMessage, RemoteDisconnected
from typing import Any, NamedTuple
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.request import HttpRequest as RetryHttpRequest
from slack_sdk.http_retry.response import HttpResponse as RetryHttpResponse
from slack_sdk.http_retry.state import RetryState

# Drop a connection idle this long instead of reusing it: servers close idle keep-alive
# connections after a while, and a request sent on one of those would fail.
IDLE_LIMIT_S = 20.0
# An answer's status line and headers larger than this are refused (Slack's are ~1 KB).
MAX_HEAD_BYTES = 64 * 1024
# slack_sdk's own loop gives up after this many attempts whatever the handlers say.
MAX_ATTEMPTS = 100


class Answer(NamedTuple):
    """One HTTP answer: status, reason, headers (names as sent, repeated ones joined), body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


class _Dropped(RemoteDisconnected):
    """The server closed the connection before sending a byte of the answer."""


class Connection:
    """One persistent HTTP/1.1 connection to a host (plain or TLS); not thread-safe."""

    def __init__(self, scheme: str, host: str, port: int, *, timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        self.host, self.timeout = host, timeout
        self.port = port or (443 if scheme == "https" else 80)
        self.context = (context or _default_context()) if scheme == "https" else None
        default_port = 443 if scheme == "https" else 80
        self.authority = host if self.port == default_port else f"{host}:{self.port}"
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.last_used = 0.0

    @property
    def is_open(self) -> bool:
        return self.sock is not None

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock, self.buffer = None, b""

    def exchange(self, method: str, target: str, headers: dict[str, str],
                 body: bytes) -> Answer:
        """Send one request and read its answer; the connection closes itself when the
        answer says so (or was read to the end of the stream).

        Raises `URLError` when no connection could be made, `_Dropped` when the server closed
        the connection before answering, OSError/HTTPException for anything else.
        """
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.authority}",
                 f"Content-Length: {len(body)}", "Accept-Encoding: identity"]
        lines.extend(f"{name}: {value}" for name, value in headers.items()
                     if name.lower() not in ("host", "content-length", "accept-encoding"))
        text = "\r\n".join(lines)
        if text.count("\n") != len(lines) - 1 or "\r" in text.replace("\r\n", ""):
            raise ValueError("a header name or value contains a line break")
        request = (text + "\r\n\r\n").encode("latin-1") + body
        if self.sock is None:
            self._connect()
        assert self.sock is not None
        try:
            self.sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError) as error:
            raise _Dropped(f"connection closed before the request was sent: {error}") from error
        while True:
            answer, keep = self._read_answer(method)
            if not 100 <= answer.status < 200:
                break  # 1xx answers (100 Continue) come before the real one
        if not keep:
            self.close()
        self.last_used = time.monotonic()
        return answer

    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise URLError(error) from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except OSError as error:
            sock.close()
            raise URLError(error) from error
        self.sock, self.buffer = sock, b""

    def _fill(self) -> bool:
        """Read what the server sent next into the buffer; False at the end of the stream."""
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _read_head(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
                return head
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise HTTPException("answer headers too large")
            started = bool(self.buffer)
            try:
                more = self._fill()
            except ConnectionResetError as error:
                if started:
                    raise
                raise _Dropped(f"connection reset before the answer: {error}") from error
            if not more:
                if started:
                    raise HTTPException("connection closed in the middle of the answer headers")
                raise _Dropped("connection closed by the server without an answer")

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise HTTPException("connection closed in the middle of the answer body")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_HEAD_BYTES or not self._fill():
                raise HTTPException("malformed chunked answer")
        line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
        return line

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size_field = self._read_line().split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise HTTPException(f"malformed chunk size {size_field[:20]!r}") from None
            if size == 0:
                while self._read_line():  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            parts.append(self._read_exactly(size))
            if self._read_exactly(2) != b"\r\n":
                raise HTTPException("malformed chunked answer")

    def _read_to_end(self) -> bytes:
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def _read_answer(self, method: str) -> tuple[Answer, bool]:
        status_line, *header_lines = self._read_head().split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise HTTPException(f"malformed status line {status_line[:60]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        lowered: dict[str, str] = {}
        for line in header_lines:
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise HTTPException(f"malformed header line {line[:60]!r}")
            name, value = name.strip(), value.strip()
            key = name.lower()
            if key in lowered:
                headers[lowered[key]] += ", " + value
            else:
                lowered[key] = name
                headers[name] = value
        connection = headers.get(lowered.get("connection", ""), "").lower()
        keep = "close" not in connection and (version == b"HTTP/1.1" or "keep-alive" in connection)
        length = headers.get(lowered.get("content-length", ""))
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get(lowered.get("transfer-encoding", ""), "").lower():
            body = self._read_chunked()
        elif length is not None:
            if not length.isdigit():
                raise HTTPException(f"malformed Content-Length {length[:20]!r}")
            body = self._read_exactly(int(length))
        else:
            body, keep = self._read_to_end(), False
        return Answer(status, reason.decode("latin-1"), headers, body), keep


@functools.cache
def _default_context() -> ssl.SSLContext:
    """The system's trust store, loaded once (each load reads every CA certificate)."""
    return ssl.create_default_context()


class _Pool(threading.local):
    def __init__(self) -> None:
        self.connections: dict[tuple[str, str, int], Connection] = {}


class KeepAliveWebClient(WebClient):
    """`slack_sdk.WebClient` with the lean keep-alive transport (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = _Pool()

    def _perform_urllib_http_request(self, *, url: str, args: dict[str, dict[str, Any]]
                                     ) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or args["data"] or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request(url=url, args=args)
        headers = args["headers"]
        if args["json"]:
            body = json.dumps(args["json"]).encode()
            headers["Content-Type"] = "application/json;charset=utf-8"
        elif args["params"]:
            body = urlencode(args["params"]).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = b""
        key = (parts.scheme, parts.hostname or "", parts.port or 0)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        state = RetryState()
        for _ in range(MAX_ATTEMPTS):
            state.next_attempt_requested = False
            try:
                answer = self._send(key, target, headers, body)
            except Exception as error:
                self._logger.error(f"Failed to send a request to Slack API server: {error}")
                if not self._ask_handlers(state, url, headers, body, None, error):
                    raise
                continue
            if 200 <= answer.status < 300:
                return _as_slack_sdk_response(answer)
            offered = _with_retry_after(answer.headers)
            response = RetryHttpResponse(
                status_code=answer.status,
                headers={name: [value] for name, value in offered.items()},
                data=answer.body,
            )
            error = HTTPError(url, answer.status, answer.reason, _message(answer.headers),
                              io.BytesIO(answer.body))
            if not self._ask_handlers(state, url, headers, body, response, error):
                return _as_slack_sdk_response(answer)
        raise HTTPException(f"gave up on {url} after {MAX_ATTEMPTS} attempts")

    def _ask_handlers(self, state: RetryState, url: str, headers: dict[str, str], body: bytes,
                      response: RetryHttpResponse | None, error: Exception) -> bool:
        """True when a retry handler asked for another attempt (it waited as it saw fit)."""
        request = RetryHttpRequest(method="POST", url=url, headers=headers, data=body)
        for handler in self.retry_handlers:
            if handler.can_retry(state=state, request=request, response=response, error=error):
                handler.prepare_for_next_attempt(
                    state=state, request=request, response=response, error=error
                )
                break
        return state.next_attempt_requested

    def _send(self, key: tuple[str, str, int], target: str, headers: dict[str, str],
              body: bytes) -> Answer:
        connection = self._pool.connections.get(key)
        reused = connection is not None and connection.is_open and (
            time.monotonic() - connection.last_used < IDLE_LIMIT_S
        )
        if connection is None or not reused:
            if connection is not None:
                connection.close()
            scheme, host, port = key
            connection = Connection(scheme, host, port, timeout=self.timeout, context=self.ssl)
            self._pool.connections[key] = connection
        try:
            return connection.exchange("POST", target, headers, body)
        except _Dropped:
            connection.close()
            if not reused:
                raise
            # The server had closed the idle connection before reading the request: send it
            # again once on a fresh one (nothing was processed, nothing can be doubled).
        except BaseException:
            connection.close()
            raise
        try:
            return connection.exchange("POST", target, headers, body)
        except BaseException:
            connection.close()
            raise


def _as_slack_sdk_response(answer: Answer) -> dict[str, Any]:
    """What slack_sdk's transport returns: status, headers, the body decoded by its charset."""
    media_type, charset = "", "utf-8"
    for name, value in answer.headers.items():
        if name.lower() == "content-type":
            media_type, *params = (part.strip() for part in value.split(";"))
            for param in params:
                key, _, found = param.partition("=")
                if key.strip().lower() == "charset" and found.strip('"'):
                    charset = found.strip('"')
    if media_type.lower() == "application/gzip":
        return {"status": answer.status, "headers": answer.headers, "body": answer.body}
    try:
        text = answer.body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        text = answer.body.decode("utf-8", errors="replace")
    return {"status": answer.status, "headers": answer.headers, "body": text}


def _message(headers: dict[str, str]) -> HTTPMessage:
    message = HTTPMessage()
    for name, value in headers.items():
        message[name] = value
    return message


def _with_retry_after(headers: dict[str, str]) -> dict[str, str]:
    """slack_sdk offers Retry-After to its handlers under both spellings; so do we."""
    found = {name.lower(): value for name, value in headers.items()}
    if "retry-after" not in found:
        return headers
    return {**headers, "Retry-After": found["retry-after"], "retry-after": found["retry-after"]}
