"""Sign in with Slack (OpenID Connect) and the portal's session.

The flow: /portal/auth/login keeps a random `state` and `nonce` in the (signed) session and
sends the browser to Slack's authorize page; Slack sends it back to /portal/auth/callback
with a code, which is exchanged for an ID token and an access token (openid.connect.token,
server to server, so TLS vouches for the ID token, OpenID Connect Core 3.1.3.7); the ID
token must carry our nonce and client id, and openid.connect.userInfo says who signed in
and from which workspace. Only people of the bot's own workspace get a session.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import PortalSettings

log = logging.getLogger(__name__)

SCOPES = "openid profile"
SESSION_HOURS = 8
CLAIM_USER = "https://slack.com/user_id"
CLAIM_TEAM = "https://slack.com/team_id"


class SignInError(Exception):
    """Signing in failed; the message is safe to show (it never holds a secret)."""


@dataclass(frozen=True)
class Viewer:
    """Who is signed in."""

    user_id: str
    team_id: str
    name: str


def start_sign_in(session: dict[str, Any], portal: PortalSettings, *, team_id: str | None,
                  next_path: str) -> str:
    """Remember a fresh state and nonce in the session; return Slack's authorize URL."""
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session.clear()
    session.update({"state": state, "nonce": nonce, "next": _safe_next(next_path)})
    params = {
        "response_type": "code",
        "scope": SCOPES,
        "client_id": portal.client_id,
        "state": state,
        "nonce": nonce,
        "redirect_uri": portal.redirect_uri,
    }
    if team_id:
        params["team"] = team_id  # Slack opens the right workspace at once
    return portal.authorize_url + "?" + urlencode(params)


def finish_sign_in(
    session: dict[str, Any], portal: PortalSettings, *, api_url: str, query: dict[str, str],
    bot_team_id: str, now: datetime,
) -> str:
    """Check state, exchange the code, check the nonce and workspace; start the session.

    Returns where to go next. Raises SignInError with a reason a person can read.
    """
    expected_state = session.pop("state", None)
    nonce = session.pop("nonce", None)
    next_path = session.pop("next", "/portal/")
    if query.get("error"):
        raise SignInError("Slack did not sign you in (" + query["error"][:60] + ").")
    state = query.get("state", "")
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise SignInError("This sign-in link is stale or was not started here. "
                          "Please sign in again.")
    code = query.get("code")
    if not code:
        raise SignInError("Slack sent no code back. Please sign in again.")
    client = WebClient(base_url=api_url, timeout=15)
    try:
        tokens = client.openid_connect_token(
            client_id=portal.client_id, client_secret=portal.client_secret, code=code,
            redirect_uri=portal.redirect_uri,
        )
    except (SlackApiError, SlackClientError) as exc:
        log.warning("portal sign-in: code exchange failed (%s)", _error_of(exc))
        raise SignInError("Slack did not accept the sign-in. Please try again.") from None
    claims = _id_token_claims(tokens.get("id_token"))
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not nonce or not hmac.compare_digest(str(claims.get("nonce", "")).encode(),
                                            nonce.encode()):
        raise SignInError("The sign-in answer did not match this browser. Please sign in again.")
    if portal.client_id not in audiences:
        raise SignInError("The sign-in answer was meant for another app.")
    try:
        info = WebClient(token=tokens.get("access_token"), base_url=api_url,
                         timeout=15).openid_connect_userInfo()
    except (SlackApiError, SlackClientError) as exc:
        log.warning("portal sign-in: userInfo failed (%s)", _error_of(exc))
        raise SignInError("Slack did not say who you are. Please try again.") from None
    user_id = str(info.get(CLAIM_USER) or info.get("sub") or "")
    team_id = str(info.get(CLAIM_TEAM) or "")
    if not user_id or user_id != str(claims.get(CLAIM_USER, user_id)):
        raise SignInError("Slack's answers about who you are disagree. Please sign in again.")
    if team_id != bot_team_id:
        log.info("portal sign-in refused: user of another workspace")
        raise SignInError("You signed in to another Slack workspace. This portal is for the "
                          "workspace where slabot is installed.")
    session.clear()
    session.update({
        "uid": user_id,
        "tid": team_id,
        "name": str(info.get("name") or info.get("given_name") or user_id)[:80],
        "exp": (now + timedelta(hours=SESSION_HOURS)).timestamp(),
    })
    return _safe_next(next_path)


def viewer_of(session: dict[str, Any], now: datetime) -> Viewer | None:
    """The signed-in person, or None (no session, or it expired on the bot's clock)."""
    try:
        expires = float(session.get("exp", 0))
    except (TypeError, ValueError):
        expires = 0
    if not session.get("uid") or expires <= now.timestamp():
        if session.get("uid"):
            session.clear()
        return None
    return Viewer(session["uid"], session.get("tid", ""), session.get("name", ""))


def _id_token_claims(token: object) -> dict[str, Any]:
    """The payload of a JWT received straight from Slack's token endpoint."""
    try:
        payload = str(token).split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        raise SignInError("Slack's sign-in answer was unreadable. Please try again.") from None
    if not isinstance(claims, dict):
        raise SignInError("Slack's sign-in answer was unreadable. Please try again.")
    return claims


def _safe_next(path: object) -> str:
    """Only our own pages: never an open redirect to another site."""
    text = str(path or "")
    if not text.startswith("/portal/") or text.startswith("//") or "\\" in text:
        return "/portal/"
    return text[:500]


def _error_of(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        return str(response.get("error"))
    return exc.__class__.__name__
