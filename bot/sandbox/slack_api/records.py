"""What the fake Slack keeps and how it reads and writes Slack's wire formats."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

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
class Fault:
    """A planned failure of the next calls of one method."""

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


def ts_key(ts: str) -> tuple[int, int]:
    """A ts as a number pair that sorts like Slack's ("seconds.micro")."""
    seconds, _, micros = str(ts).partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


def page_of(items: list[Any], params: dict[str, Any], *, default_limit: int
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


def mimetype(content: bytes) -> str:
    """The content type Slack would serve an uploaded file with (PNG, SVG, text or bytes)."""
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


def as_read(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A stored message as a read returns it: metadata only with include_all_metadata."""
    shown = dict(message)
    if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
        shown.pop("metadata", None)
    return shown


def maybe_json(value: Any) -> Any:
    """A parameter as sent: JSON text (a form post's blocks, view, metadata) decoded."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """A call's arguments from its query string and its form or JSON body."""
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

