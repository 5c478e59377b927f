"""The bot's portal from the sandbox page, signed in as the person picked there.

`slabot demo` turns the portal on with Sign in with Slack pointed at the sandbox: the authorize
page is this page's ``/openid/connect/authorize`` (``SLACK_AUTHORIZE_URL``), the code exchange
and userInfo go to the sandbox's Web API (``SLACK_API_URL``), as the portal calls Slack. The
authorize page asks for no password (it is a sandbox): it signs in whoever the page shows
(``?as=`` or the person picked last) and sends the browser straight back with the code and
state. "Open the portal" (``/sandbox/portal?as=U...``) picks that person and starts the
portal's own sign-in, so it signs in afresh each time: switch person, open it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.sandbox.web import SandboxPage

# The person picked last; the page's script sets it too (static/sandbox.js).
PERSON_COOKIE = "slabot_demo_as"
AUTHORIZE_PATH = "/openid/connect/authorize"  # the path of Slack's own authorize page


def sign_in_routes(page: SandboxPage) -> list[Route]:
    """The page's "Open the portal" link and its Sign in with Slack authorize page."""

    async def open_portal(request: Request) -> Response:
        me = page.person_of(request)
        response = RedirectResponse(page.portal_url.rstrip("/") + "/portal/auth/login",
                                    status_code=303)
        response.set_cookie(PERSON_COOKIE, me, path="/", samesite="strict")
        return response

    async def authorize(request: Request) -> Response:
        me = page.person_of(request)
        status, where = page.sandbox.openid_authorize(
            dict(request.query_params), user_id=me, name=page.by_id[me].name.title())
        if status == 302:
            return RedirectResponse(where, status_code=302)
        return PlainTextResponse(where, status_code=status)

    return [Route("/sandbox/portal", open_portal), Route(AUTHORIZE_PATH, authorize)]
