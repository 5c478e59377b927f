"""Guarding /slack/events: a size cap and a shape check before Bolt sees a request.

Bolt parses a body before it checks the signature, and trusts what it parses: `{not json`,
`[]`, bytes that are not UTF-8, an `event` that is a list, or a timestamp header `abc` end
in a 500 and a traceback. `RequestGuard` (pure ASGI) answers those with a 4xx and one short
log line, and refuses bodies over `MAX_BODY_BYTES` with 413 without reading the rest (Slack's
are far below). `quiet_framework_loggers` keeps Bolt from writing request bodies to the log.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SLACK_EVENTS_PATH = "/slack/events"
# What a framework log line may carry; bodies and their fragments are cut there.
MAX_FRAMEWORK_LOG_CHARS = 300

_TIMESTAMP = re.compile(r"^\d{1,12}$")
# Fields Slack always sends as strings, wherever they appear in a payload.
_STRINGS = frozenset({
    "type", "subtype", "token", "team_id", "api_app_id", "event_id", "ts", "thread_ts",
    "event_ts", "bot_id", "reaction", "item_user", "channel_type", "tab", "id", "channel_id",
    "message_ts", "callback_id", "trigger_id", "response_url", "action_id", "block_id",
    "name", "domain", "command", "user_id", "user_name", "enterprise_id", "challenge",
    "private_metadata", "action_ts",
})
# Either an id (string) or an object with an id, depending on the payload.
_STRING_OR_OBJECT = frozenset({
    "user", "channel", "team", "enterprise", "item", "message", "previous_message", "view",
    "container", "text", "value",
})
_OBJECTS = frozenset({"event"})
_LISTS_OF_OBJECTS = frozenset({"actions", "authorizations"})
_MAX_DEPTH = 3


class RequestGuard:
    """ASGI middleware: cap and shape-check POSTs to `path`, pass everything else through."""

    def __init__(self, app: ASGIApp, *, path: str = SLACK_EVENTS_PATH,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.path = path
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path") != self.path \
                or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > self.max_body):
            # Refused from the header alone: the body is never read.
            await _refuse(send, 413, "the body is larger than 1 MiB")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(send, 413, "the body is larger than 1 MiB")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = slack_request_problem(body, headers)
        if problem is not None:
            await _refuse(send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, reason: str) -> None:
    log.warning("refused a request to /slack/events (%d): %s", status, reason)
    payload = json.dumps({"error": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


def slack_request_problem(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why Bolt could not read this request safely (short, no body content), or None."""
    timestamp = headers.get("x-slack-request-timestamp")
    if timestamp is not None and not _TIMESTAMP.match(timestamp):
        return "X-Slack-Request-Timestamp is not a number of seconds"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if not text:
        return None
    # The same choice Bolt makes (slack_bolt.request.internals.parse_body).
    if headers.get("content-type") == "application/json" or text.startswith("{"):
        return _json_problem(text, "the body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text and fields.get("payload") is not None:
        return _json_problem(fields["payload"], "the payload")
    if not fields.get("command") and "ssl_check" not in fields:
        return "the form is neither a command nor an interaction"
    return None


def _json_problem(text: str, what: str) -> str | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return f"{what} is not JSON"
    if not isinstance(data, dict):
        return f"{what} is not a JSON object"
    return _shape_problem(data, 0) or _missing_field(data)


# Fields Slack always sends with these payloads (the listeners read them without a default).
# A path names nested objects: "user.id" is the id of the `user` object.
_REQUIRED_BY_PAYLOAD = {
    "event_callback": ("event", "event.type"),
    "block_actions": ("user.id", "actions"),
    "message_action": ("user.id", "channel.id", "message.ts"),
}
_REQUIRED_BY_EVENT = {
    "message": ("channel", "ts"),
    "reaction_added": ("item",),
    "reaction_removed": ("item",),
    "app_home_opened": ("user",),
}


_INTERACTIVE = frozenset({"block_actions", "message_action", "shortcut", "view_submission",
                          "view_closed", "block_suggestion"})
# In interactivity payloads these are always objects, never bare ids.
_INTERACTIVE_OBJECTS = ("team", "user", "channel", "container", "message", "view")


def _missing_field(data: dict[str, Any]) -> str | None:
    kind = data.get("type")
    if not isinstance(kind, str):
        return "field 'type' is missing"
    if kind in _INTERACTIVE:
        for key in _INTERACTIVE_OBJECTS:
            if key in data and data[key] is not None and not isinstance(data[key], dict):
                return f"field {key!r} is not an object"
    for path in _REQUIRED_BY_PAYLOAD.get(kind, ()):
        if _lookup(data, path) is None:
            return f"field {path!r} is missing"
    if kind == "block_actions":
        actions = data["actions"]
        if not actions or any(a.get("action_id") is None or
                              (a.get("type") == "button" and a.get("value") is None)
                              for a in actions):
            return "field 'actions' has no action with an action_id (and a button's value)"
    event = data.get("event")
    if isinstance(event, dict):
        for path in _REQUIRED_BY_EVENT.get(str(event.get("type")), ()):
            if _lookup(event, path) is None:
                return f"field 'event.{path}' is missing"
        if event.get("type") == "message" and not event.get("subtype") \
                and not event.get("bot_id") and event.get("user") is None:
            return "field 'event.user' is missing"
    return None


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _shape_problem(data: dict[str, Any], depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    for key, value in data.items():
        if key in _STRINGS and not isinstance(value, str):
            return f"field {key!r} is not a string"
        if key in _STRING_OR_OBJECT and not isinstance(value, str | dict):
            return f"field {key!r} is neither a string nor an object"
        if key in _OBJECTS and not isinstance(value, dict):
            return f"field {key!r} is not an object"
        if key in _LISTS_OF_OBJECTS and (
            not isinstance(value, list) or not all(isinstance(v, dict) for v in value)
        ):
            return f"field {key!r} is not a list of objects"
        nested = [value] if isinstance(value, dict) else (
            value if key in _LISTS_OF_OBJECTS else [])
        for item in nested:
            problem = _shape_problem(item, depth + 1)
            if problem is not None:
                return problem
    return None


class FrameworkLogFilter(logging.Filter):
    """Cuts framework log lines that carry request bodies down to a few hundred characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("As you gave `client` as well"):
            # Our client carries the token; Bolt also sees SLACK_BOT_TOKEN in the environment
            # (loaded from .env) and warns at every start about a token it rightly ignores.
            return False
        if message.startswith("Invalid request signature detected"):
            # Bolt adds the whole body (and the signature) to this line.
            record.msg, record.args = "Invalid request signature detected", None
        elif len(message) > MAX_FRAMEWORK_LOG_CHARS:
            record.msg = message[:MAX_FRAMEWORK_LOG_CHARS] + "… (cut)"
            record.args = None
        return True


_FILTER = FrameworkLogFilter()


def quiet_framework_loggers(prefix: str = "slack_bolt") -> None:
    """Put the body-cutting filter on Bolt's loggers (existing ones, and the base that new
    ones copy their filters from). Safe to call more than once."""
    names = [prefix] + [n for n in logging.root.manager.loggerDict if n.startswith(prefix + ".")]
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
