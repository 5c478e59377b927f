"""What the sandbox sends the bot: Slack's requests, signed, POSTed to its /slack/events."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import time
import uuid
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request as UrlRequest
from urllib.request import urlopen

from bot.sandbox.slack_api import BOT_USER_ID, TEAM_ID

log = logging.getLogger(__name__)

API_APP_ID = "A0DEMOSLABOT"


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's ``X-Slack-Signature``: v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class BotLink:
    """Sends the bot what Slack would, signed, to its ``/slack/events``."""

    def __init__(self, bot_url: str, signing_secret: str) -> None:
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8].upper()

    def _post(self, body: bytes, content_type: str) -> int:
        timestamp = str(int(time.time()))
        request = UrlRequest(self.url, data=body, method="POST", headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(self.secret, timestamp, body),
        })
        try:
            with urlopen(request, timeout=10) as response:
                response.read()
                return int(response.status)
        except HTTPError as error:
            return error.code
        except (URLError, OSError) as error:
            log.warning("the bot did not answer: %s", error)
            return 0

    def event(self, event: dict[str, Any]) -> int:
        """An Events API callback carrying `event`."""
        payload = {
            "token": "sandbox", "team_id": TEAM_ID, "api_app_id": API_APP_ID,
            "event": event, "type": "event_callback",
            "event_id": f"Ev{self._run}{next(self._ids):06d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return self._post(json.dumps(payload).encode(), "application/json")

    def command(self, fields: dict[str, str]) -> int:
        """A slash command (form-encoded)."""
        return self._post(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> int:
        """An interactivity payload (``payload=`` form field)."""
        return self._post(urlencode({"payload": json.dumps(payload)}).encode(),
                          "application/x-www-form-urlencoded")
