"""A fake Slack Socket Mode endpoint: a small WebSocket server on 127.0.0.1.

Slack's Socket Mode works like this: the app calls ``apps.connections.open`` with its app-level
token and gets a ``wss://`` URL; Slack sends a ``hello``, then each event, slash command or
interaction as an *envelope* ``{"envelope_id", "type", "payload", ...}``, and the app acks by
sending ``{"envelope_id": ...}`` back (with a ``payload`` when it answers a command).

This server speaks just enough RFC 6455 for that (handshake, text frames, ping/pong, close)
over plain TCP; slack_sdk's built-in client uses plain sockets for ports other than 443.
Tests push envelopes with ``send(...)`` and wait for the app's acks with ``wait_ack(...)``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class FakeSocketMode:
    """Accepts Socket Mode connections and exchanges envelopes with them."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._cond = threading.Condition()
        self._connections: list[socket.socket] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="fake-socket-mode").start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake"

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        with self._cond:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    # ------------------------------------------------------------------ the test's side
    def wait_connected(self, timeout: float = 20.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections, timeout):
                raise AssertionError("the app never opened its Socket Mode connection")

    def send(self, envelope_type: str, payload: dict[str, Any], **extra: Any) -> str:
        """Send one envelope to the app; returns its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        message = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                   "accepts_response_payload": envelope_type != "events_api", **extra}
        with self._cond:
            connection = self._connections[-1]
        connection.sendall(_frame(0x1, json.dumps(message).encode()))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acked")
            return self.acks[envelope_id]

    # ------------------------------------------------------------------ the server
    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            reader = connection.makefile("rb")
            key = _handshake(reader)
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            connection.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            hello = {"type": "hello", "num_connections": 1,
                     "connection_info": {"app_id": "A0FAKE"}}
            connection.sendall(_frame(0x1, json.dumps(hello).encode()))
            with self._cond:
                self._connections.append(connection)
                self._cond.notify_all()
            while True:
                opcode, data = _read_frame(reader)
                if opcode == 0x8:  # close
                    connection.sendall(_frame(0x8, data[:2]))
                    return
                if opcode == 0x9:  # ping
                    connection.sendall(_frame(0xA, data))
                elif opcode == 0x1:
                    message = json.loads(data)
                    if "envelope_id" in message:
                        with self._cond:
                            self.acks[message["envelope_id"]] = message
                            self._cond.notify_all()
        except (OSError, ValueError, ConnectionError):
            return
        finally:
            with self._cond:
                if connection in self._connections:
                    self._connections.remove(connection)
            connection.close()


def _handshake(reader) -> str:
    key = None
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("closed during the handshake")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    if key is None:
        raise ValueError("not a WebSocket handshake")
    return key


def _frame(opcode: int, data: bytes) -> bytes:
    """A final, unmasked frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    if len(data) < 126:
        return head + bytes([len(data)]) + data
    if len(data) < 1 << 16:
        return head + bytes([126]) + struct.pack("!H", len(data)) + data
    return head + bytes([127]) + struct.pack("!Q", len(data)) + data


def _read_exact(reader, size: int) -> bytes:
    data = reader.read(size)
    if data is None or len(data) < size:
        raise ConnectionError("connection closed")
    return data


def _read_frame(reader) -> tuple[int, bytes]:
    first, second = _read_exact(reader, 2)
    opcode = first & 0x0F
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exact(reader, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exact(reader, 8))
    mask = _read_exact(reader, 4) if second & 0x80 else None
    data = _read_exact(reader, length)
    if mask is not None:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data
