"""Hostile bodies over signed HTTP: a 4xx or a normal answer, never a 500 or a traceback.

Malformed JSON, wrong types, missing fields, oversized and oddly encoded bodies, each signed
like Slack so it gets past the signature check, plus a few unsigned big ones. The log grows
by less than 1 KB per request and `/healthz` still answers. `HOSTILE_REQUESTS` sets how many
generated bodies are sent besides the hand-written ones (default 1000).
"""

from __future__ import annotations

import copy
import http.client
import json
import logging
import os
import random
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.sandbox.slack_api import TEAM_ID
from tests.e2e.conftest import AGENT, CHANNEL, REQUESTER

GENERATED = int(os.environ.get("HOSTILE_REQUESTS", "1000"))
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MARKUP = "<!channel> <https://evil.example|x> & <@U999>"


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {"token": "t", "team_id": TEAM_ID, "api_app_id": "AAPP0001", "type": "event_callback",
            "event_id": "Ev1", "event_time": 1, "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}]}


MESSAGE = _event({"type": "message", "channel": CHANNEL, "user": REQUESTER, "text": "hi",
                  "ts": "1.000001", "event_ts": "1.000001", "channel_type": "channel"})
REACTION = _event({"type": "reaction_added", "user": AGENT, "reaction": "eyes",
                   "item": {"type": "message", "channel": CHANNEL, "ts": "1.000001"},
                   "item_user": REQUESTER, "event_ts": "2.000001"})
HOME = _event({"type": "app_home_opened", "user": AGENT, "channel": "D1", "tab": "home"})
ACTION = {"type": "block_actions", "team": {"id": TEAM_ID, "domain": "fake"},
          "user": {"id": AGENT, "username": "alex", "team_id": TEAM_ID}, "api_app_id": "AAPP0001",
          "token": "t", "trigger_id": "trigger-1",
          "container": {"type": "message", "message_ts": "1.0", "channel_id": CHANNEL},
          "channel": {"id": CHANNEL, "name": "support"},
          "message": {"type": "message", "ts": "1.0", "text": "card"},
          "response_url": "http://127.0.0.1:9/response",
          "actions": [{"action_id": "ticket_resolve", "block_id": "ticket_card_actions",
                       "value": "SLA-1", "type": "button", "action_ts": "1.0"}]}
SHORTCUT = {"type": "message_action", "callback_id": "track_message", "trigger_id": "t",
            "team": {"id": TEAM_ID, "domain": "fake"}, "user": {"id": AGENT, "name": "alex"},
            "channel": {"id": CHANNEL, "name": "support"}, "message_ts": "1.0",
            "message": {"type": "message", "user": REQUESTER, "text": "x", "ts": "1.0"},
            "response_url": "http://127.0.0.1:9/response", "token": "t", "action_ts": "1.0"}
VALID = (MESSAGE, REACTION, HOME, ACTION, SHORTCUT)

HAND_WRITTEN: list[tuple[bytes, str]] = [
    (b"{not json", JSON), (b"[]", JSON), (b"null", JSON), (b'"text"', JSON), (b"42", JSON),
    (b"", JSON), (b"{}", JSON), (b"\xff\xfe{\x00}\x00", JSON), (b"{\"a\": \"\xe9\"}", JSON),
    ("{}".encode("utf-16"), JSON), (b"[" * 100_000, JSON), (b"{\"a\": " + b"9" * 5000 + b"}", JSON),
    (b'{"a": NaN, "b": Infinity}', JSON), (b'{"type": "event_callback", "event": "message"}', JSON),
    (b'{"type": "event_callback", "event": ["message"]}', JSON),
    (b'{"type": "event_callback", "event": {}}', JSON),
    (b'{"type": "event_callback", "event": {"type": "message"}}', JSON),
    (b'{"type": ["event_callback"]}', JSON), (b'{"type": "url_verification"}', JSON),
    (b'{"type": "event_callback", "authorizations": "x", "event": {"type": "message"}}', JSON),
    (b'{"type": "event_callback", "authorizations": [1], "event": {"type": "message"}}', JSON),
    (b'{"type": "event_callback", "enterprise": ["E1"], "event": {"type": "message"}}', JSON),
    (json.dumps(_event({"type": "message", "text": "\ud800", "user": REQUESTER,
                        "channel": "CNOTTRACKED", "ts": "1.0"})).encode(), JSON),
    (b"payload=", FORM), (b"payload={not json", FORM), (b"payload=[]", FORM),
    (b"payload=null", FORM), (b"payload=%22x%22", FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": "x"})}).encode(), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": [1]})}).encode(), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1",
                                       "actions": [{"action_id": 5}]})}).encode(), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions"})}).encode(), FORM),
    (urlencode({"payload": json.dumps({"type": "view_submission", "view": []})}).encode(), FORM),
    (b"command=%2Fsla", FORM), (b"command=%2Fsla&text=" + b"x" * 200_000, FORM),
    (urlencode({"command": "/sla", "text": MARKUP, "user_id": "U1",
                "channel_id": "C1", "team_id": TEAM_ID}).encode(), FORM),
    (b"\xff\xfe\xfd", FORM), (b"a=%ff%fe", FORM), (b"&&&===", FORM), (b"payload", FORM),
    (b"x" * 900_000, FORM),
]

_JUNK: list[Any] = [None, 0, -1, 10**30, 1.5, True, [], [1, "x"], {}, {"id": 1}, "", MARKUP,
                    "x" * 5000, "\u202e\u0000\ufeff", "SLA-0", "SLA-999999999999", "<@U1|",
                    [{"a": None}]]


def _mutations(count: int, seed: int = 12) -> list[tuple[bytes, str]]:
    """Valid payloads with one field changed to junk, dropped, or the payload truncated."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        base = copy.deepcopy(rng.choice(VALID))
        target = base
        while rng.random() < 0.6:
            nested = [k for k, v in target.items() if isinstance(v, dict)]
            lists = [k for k, v in target.items()
                     if isinstance(v, list) and v and isinstance(v[0], dict)]
            if lists and rng.random() < 0.3:
                target = target[rng.choice(lists)][0]
            elif nested:
                target = target[rng.choice(nested)]
            else:
                break
        key = rng.choice(sorted(target))
        roll = rng.random()
        if roll < 0.25:
            del target[key]
        else:
            target[key] = copy.deepcopy(rng.choice(_JUNK))
        text = json.dumps(base)
        if rng.random() < 0.1:
            text = text[: rng.randrange(1, len(text))]
        if "event" in base or rng.random() < 0.1:
            bodies.append((text.encode(), JSON))
        else:
            bodies.append((urlencode({"payload": text}).encode(), FORM))
    return bodies


def _status_of_oversized_post(url: str, length: int) -> int:
    """The answer to a POST announcing `length` bytes, read after sending only the start:
    the bot answers from Content-Length and may close before a client could send it all."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", JSON)
        connection.putheader("Content-Length", str(length))
        connection.endheaders(b"{}" + b" " * 1024)
        return connection.getresponse().status
    finally:
        connection.close()


def test_hostile_bodies_get_4xx_or_an_answer_never_a_500_or_a_traceback(bot, caplog):
    for payload in (ACTION, SHORTCUT):
        payload["response_url"] = bot.fake.response_url("hostile")
    caplog.set_level(logging.INFO)
    bodies = HAND_WRITTEN + _mutations(GENERATED)
    statuses = {}
    for body, content_type in bodies:
        result = bot.slack.post(body, content_type)
        statuses[result.status] = statuses.get(result.status, 0) + 1
        assert result.status < 500, (result.status, body[:200])
    # Not signed, not Slack's size, not Slack's timestamps.
    for kw in ({"signature": "v0=bad"}, {"headers": {"X-Slack-Request-Timestamp": "abc"}},
               {"headers": {"X-Slack-Request-Timestamp": "1" * 40}}):
        assert 400 <= bot.slack.post(b"x" * 900_000, FORM, **kw).status < 500
    assert _status_of_oversized_post(bot.url, 2 * 1024 * 1024) == 413
    # Payloads naming an action or callback the bot does not have are Slack's 404, not a bug.
    bot.executor.wait_idle()
    bot.error_log.records[:] = [r for r in bot.error_log.records
                                if not r.getMessage().startswith("Unhandled request")]
    bot.settle()
    assert bot.get("/healthz").status == 200
    sent = len(bodies) + 4
    logged = "\n".join(caplog.handler.format(r) for r in caplog.records)
    assert "Traceback" not in logged, logged[:3000]
    assert len(logged.encode()) < 1024 * sent, (len(logged) / sent, statuses)
    print(f"{sent} hostile requests, {len(logged.encode()) / sent:.0f} log bytes per request,"
          f" statuses {sorted(statuses.items())}")


def test_refusals_say_why_in_one_short_line(bot, caplog):
    caplog.set_level(logging.INFO)
    result = bot.slack.post(b"[]", JSON)
    assert result.status == 400 and b"not a JSON object" in result.body
    assert bot.slack.post(b"x", JSON, headers={"X-Slack-Request-Timestamp": "abc"}).status == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.request_guard"]
    assert len(lines) == 2 and all(len(line) < 120 for line in lines), lines
