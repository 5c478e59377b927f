"""What the /slack/events guard refuses before Bolt reads a body, and what it lets through."""

from __future__ import annotations

import json
import logging

import pytest

from bot.request_guard import FrameworkLogFilter, slack_request_problem

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("body", "headers", "problem"),
    [
        (b"{not json", JSON, "the body is not JSON"),
        (b"[]", JSON, "the body is not a JSON object"),
        (b"null", JSON, "the body is not a JSON object"),
        (b"\xff\xfe", JSON, "the body is not UTF-8"),
        (b'{"type": "event_callback", "event": "message"}', JSON, "field 'event' is not an object"),
        (b'{"type": "event_callback", "event": []}', JSON, "field 'event' is not an object"),
        (b'{"type": "event_callback", "event": {"type": "message", "channel": "C1", "ts": 1}}',
         JSON, "field 'ts' is not a string"),
        (b'{"type": "event_callback", "event": {"type": "message", "channel": "C1", "ts": "1"}}',
         JSON, "field 'event.user' is missing"),
        (b"payload=[]", FORM, "the payload is not a JSON object"),
        (b"a=b", FORM, "the form is neither a command nor an interaction"),
        (b"{}", {**JSON, "x-slack-request-timestamp": "abc"},
         "X-Slack-Request-Timestamp is not a number of seconds"),
    ],
)
def test_bodies_bolt_cannot_read_are_refused_with_a_short_reason(body, headers, problem):
    assert slack_request_problem(body, headers) == problem


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (json.dumps({"type": "event_callback", "event": {
            "type": "message", "channel": "C1", "user": "U1", "ts": "1.0", "text": "hi"}}).encode(),
         JSON),
        (json.dumps({"type": "url_verification", "challenge": "abc"}).encode(), JSON),
        (b"command=%2Fsla&text=help&user_id=U1", FORM),
        (b"ssl_check=1&token=x", FORM),
        (b"payload=" + json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": [
            {"action_id": "ticket_resolve", "type": "button", "value": "SLA-1"}]}).encode(), FORM),
    ],
)
def test_what_slack_sends_passes(body, headers):
    assert slack_request_problem(body, {**headers, "x-slack-request-timestamp": "1700000000"}) \
        is None


def test_framework_log_lines_never_carry_a_body():
    record = logging.LogRecord("slack_bolt.RequestVerification", logging.INFO, __file__, 1,
                               "Invalid request signature detected (signature: %s, body: %s)",
                               ("v0=x", "secret" * 100_000), None)
    FrameworkLogFilter().filter(record)
    assert record.getMessage() == "Invalid request signature detected"
    long = logging.LogRecord("slack_bolt.App", logging.WARNING, __file__, 1, "%s",
                             ("x" * 100_000,), None)
    FrameworkLogFilter().filter(long)
    assert len(long.getMessage()) < 320
