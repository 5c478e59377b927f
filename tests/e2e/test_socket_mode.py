"""Socket Mode end to end: `slabot run` with SLACK_APP_TOKEN, against a fake Socket Mode server.

The bot opens its connection through the fake Web API (apps.connections.open with the
app-level token), receives envelopes over a real WebSocket and acks each one; tickets and
answers then go through the same fake Web API as in HTTP mode. SIGTERM stops it cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from sqlmodel import select

from bot.sandbox.slack_api import BOT_USER_ID, TEAM_ID
from storage import migrate
from storage.db import make_engine, unit_of_work
from storage.models import Ticket
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.closing import running_fake_slack
from tests.e2e.conftest import AGENT, CHANNEL, REQUESTER
from tests.fakes.socket_mode import FakeSocketMode
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-socket"
APP_TOKEN = "xapp-1-socket"


pytestmark = pytest.mark.slow  # a real `slabot run` process


@pytest.fixture
def socket_bot(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'socket.db'}"
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with unit_of_work(engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=CHANNEL)
    socket_mode = FakeSocketMode()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_fake_slack(token=BOT_TOKEN) as fake:
        fake.app_token, fake.socket_mode_url = APP_TOKEN, socket_mode.url
        log = (tmp_path / "bot.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, stdout=log,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
                 "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "unused-in-socket-mode",
                 "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.api_url,
                 "DATABASE_URL": db_url, "LOG_LEVEL": "INFO", "PORT": str(port),
                 "HOST": "127.0.0.1"},
        )
        try:
            socket_mode.wait_connected()
            yield process, fake, socket_mode, engine, tmp_path / "bot.log", port
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            socket_mode.close()
            engine.dispose()


def _get_json(url: str) -> dict | None:
    try:
        with urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def event_payload(text: str, ts: str, event_id: str) -> dict:
    return {
        "token": "unused", "team_id": TEAM_ID, "api_app_id": "AAPP0001", "type": "event_callback",
        "event_id": event_id, "event_time": int(float(ts)),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": {"type": "message", "channel": CHANNEL, "user": REQUESTER, "text": text,
                  "ts": ts, "event_ts": ts, "channel_type": "channel"},
    }


def test_socket_mode_turns_a_message_into_a_ticket_answers_sla_and_stops_on_sigterm(socket_bot):
    process, fake, socket_mode, engine, log_path, port = socket_bot
    # Health and metrics are served in Socket Mode too, on PORT.
    health = wait_until(lambda: _get_json(f"http://127.0.0.1:{port}/healthz"), "/healthz",
                        timeout=15)
    assert health["scheduler"]["running"] is True and health["database_writes"] == "ok"
    ts = f"{time.time():.6f}"
    fake.add_message(CHANNEL, ts, REQUESTER, "The wiki is down", None)
    envelope = socket_mode.send("events_api", event_payload("The wiki is down", ts, "EvSock1"),
                                retry_attempt=0, retry_reason="")
    assert socket_mode.wait_ack(envelope) == {"envelope_id": envelope}

    def stored():
        with unit_of_work(engine) as session:
            return list(session.exec(select(Ticket)))

    [ticket] = wait_until(stored, "the ticket", timeout=15)
    assert (ticket.key, ticket.message_ts) == ("SLA-1", ts)
    card = wait_until(lambda: [c for c in fake.calls("chat.postMessage")
                               if c.params.get("thread_ts") == ts], "the card", timeout=15)
    assert "SLA-1" in str(card[0].json_param("blocks"))

    # Slack redelivers the event (the same event id, a retry attempt): still one ticket.
    again = socket_mode.send("events_api", event_payload("The wiki is down", ts, "EvSock1"),
                             retry_attempt=1, retry_reason="timeout")
    socket_mode.wait_ack(again)

    command = socket_mode.send("slash_commands", {
        "command": "/sla", "text": "ticket SLA-1", "team_id": TEAM_ID, "channel_id": CHANNEL,
        "user_id": AGENT, "user_name": "agent", "response_url": fake.response_url("socket"),
        "trigger_id": "trigger-1", "api_app_id": "AAPP0001",
    })
    socket_mode.wait_ack(command)
    [answer] = wait_until(lambda: fake.calls("response_url"), "the /sla answer", timeout=15)
    assert "SLA-1" in str(answer.params)
    assert len(stored()) == 1

    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    output = log_path.read_text()
    assert "Traceback" not in output
    assert "stopping" in output
