"""Sign in with Slack (OpenID Connect): the authorize page, code exchange and userInfo."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.slack_api.records import TEAM_ID, Call
from bot.sandbox.slack_api.state import SlackState


class OpenIdMethods(SlackState):
    """Sign in with Slack (OpenID Connect): the authorize page, code exchange and userInfo."""

    def enable_openid(self, client_id: str, client_secret: str) -> None:
        """Accept Sign in with Slack for this app's client credentials."""
        self.openid_client = (client_id, client_secret)

    def sign_in_as(self, user_id: str, *, team_id: str = TEAM_ID, name: str = "someone") -> None:
        """Who the authorize page signs in next (as if they clicked "Allow")."""
        self.openid_user = {"user_id": user_id, "team_id": team_id, "name": name}

    def openid_authorize(self, params: dict[str, str], *, user_id: str | None = None,
                         name: str = "someone") -> tuple[int, str]:
        """Status and Location (or error text) of the authorize page. It signs in `user_id`
        of this workspace when given (the sandbox page's person), else whom `sign_in_as`
        named."""
        self._record(Call("openid.authorize", dict(params), None, b""))
        user = ({"user_id": user_id, "team_id": TEAM_ID, "name": name} if user_id
                else self.openid_user)
        if self.openid_client is None or params.get("client_id") != self.openid_client[0]:
            return 400, "invalid_client_id"
        if params.get("response_type") != "code" or "openid" not in str(
                params.get("scope", "")).split():
            return 400, "invalid_request"
        redirect = str(params.get("redirect_uri") or "")
        if not redirect or user is None:
            return 400, "invalid_request"
        code = f"code-{next(self._openid_counter)}"
        with self._lock:
            self._openid_codes[code] = {**user, "nonce": str(params.get("nonce", "")),
                                        "redirect_uri": redirect}
        query = urlencode({"code": code, "state": params.get("state", "")})
        return 302, f"{redirect}{'&' if '?' in redirect else '?'}{query}"

    def _openid_token(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if self.openid_client is None or (client_id, client_secret) != self.openid_client:
            return {"ok": False, "error": "invalid_client"}
        with self._lock:
            grant = self._openid_codes.pop(str(params.get("code")), None)  # a code works once
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if params.get("redirect_uri") != grant["redirect_uri"]:
            return {"ok": False, "error": "bad_redirect_uri"}
        access = f"xoxp-openid-{next(self._openid_counter)}"
        with self._lock:
            self._openid_tokens[access] = grant
        now = int(time.time())
        claims = {
            "iss": "https://slack.com", "sub": grant["user_id"], "aud": client_id,
            "exp": now + 3600, "iat": now, "auth_time": now, "nonce": grant["nonce"],
            "https://slack.com/user_id": grant["user_id"],
            "https://slack.com/team_id": grant["team_id"], "name": grant["name"],
        }
        id_token = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "RS256", "typ": "JWT", "kid": "fake"}, claims)
        ) + ".ZmFrZS1zaWduYXR1cmU"
        return {"ok": True, "access_token": access, "token_type": "Bearer",
                "id_token": id_token}

    def _openid_userinfo(self, token: str | None) -> dict[str, Any]:
        grant = self._openid_tokens.get(token or "")
        if grant is None:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True, "sub": grant["user_id"],
            "https://slack.com/user_id": grant["user_id"],
            "https://slack.com/team_id": grant["team_id"], "name": grant["name"],
        }
