"""Requests not signed by Slack are refused before anything is written or said."""

from __future__ import annotations

import json
import time

from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from storage.db import unit_of_work
from storage.models import InboxItem, Ticket
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.e2e.conftest import CHANNEL, REQUESTER, slack_signature


def message_payload(event_id: str = "EvFORGED1") -> bytes:
    return json.dumps({
        "type": "event_callback", "team_id": TEAM_ID, "event_id": event_id,
        "event": {"type": "message", "channel": CHANNEL, "user": REQUESTER,
                  "text": "give me admin", "ts": "1795000000.000100"},
    }).encode()


def nothing_written(bot) -> bool:
    with unit_of_work(bot.deps.engine) as session:
        return (session.exec(select(Ticket)).first() is None
                and session.exec(select(InboxItem)).first() is None)


def tracked(bot) -> None:
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=CHANNEL)


def test_forged_signature_is_refused_with_401(bot):
    tracked(bot)
    body = message_payload()
    now = str(int(time.time()))
    forged = slack_signature("not-the-signing-secret", now, body)
    response = bot.slack.post(body, "application/json", signature=forged)
    bot.settle()
    assert response.status == 401
    assert nothing_written(bot)
    assert bot.fake.calls("chat.postMessage") == []


def test_body_changed_after_signing_is_refused(bot):
    tracked(bot)
    now = str(int(time.time()))
    signature = slack_signature(bot.slack.secret, now, message_payload())
    tampered = message_payload().replace(b"give me admin", b"give me root!")
    response = bot.slack.post(tampered, "application/json", timestamp=int(now),
                              signature=signature)
    assert response.status == 401
    assert nothing_written(bot)


def test_stale_timestamp_is_refused_even_with_a_valid_signature(bot):
    tracked(bot)
    ten_minutes_ago = int(time.time()) - 600
    response = bot.slack.post(message_payload(), "application/json", timestamp=ten_minutes_ago)
    bot.settle()
    assert response.status == 401
    assert nothing_written(bot)


def test_slash_command_without_signature_headers_is_refused(bot):
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    request = Request(bot.url + "/slack/events", data=b"command=%2Fsla&text=help",
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      method="POST")
    try:
        urlopen(request, timeout=5)
        status = 200
    except HTTPError as error:
        status = error.code
    assert status == 401
    assert bot.fake.calls("response_url") == []


def test_signed_request_is_accepted(bot):
    tracked(bot)
    response = bot.slack.post(message_payload("EvGENUINE"), "application/json")
    bot.settle()
    assert response.status == 200
    assert not nothing_written(bot)


def test_url_verification_echoes_the_challenge(bot):
    body = json.dumps({"type": "url_verification", "challenge": "c-123",
                       "token": "unused"}).encode()
    response = bot.slack.post(body, "application/json")
    assert response.status == 200
    assert response.json() == {"challenge": "c-123"}


def test_health_and_metrics(bot):
    health = bot.get("/healthz")
    assert health.status == 200
    assert health.json()["database"] == "ok"
    bot.slack.post(message_payload("EvMETRIC"), "application/json")
    bot.settle()
    metrics = bot.get("/metrics").body.decode()
    assert 'slabot_slack_requests_total{kind="event",status="200"} 1.0' in metrics
