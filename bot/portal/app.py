"""The portal under /portal: its Starlette app, session cookies and error pages.

The pages themselves are bot/portal/pages.py; while the portal's settings are missing, every
URL shows how to turn it on.
"""

from __future__ import annotations

import logging
import re

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from bot.portal import auth
from bot.portal.access import SlackUnavailable
from bot.portal.pages import Pages
from bot.portal.responses import BadPeriod, page, templates
from commands.deps import Deps

COOKIE = "slabot_portal"


def portal_routes(deps: Deps) -> list[BaseRoute]:
    """Routes to add to the bot's Starlette app: everything under /portal."""
    return [Mount("/portal", app=build_portal(deps), name="portal")]


def build_portal(deps: Deps) -> Starlette:
    """The portal app: a page saying how to turn it on while its settings are missing."""
    pages_templates = templates()
    portal = getattr(deps.settings, "portal", None)
    if portal is None:
        def off(request: Request) -> Response:
            return page(pages_templates, request, "off.html", {}, status=200)

        return Starlette(routes=[Route("/", off), Route("/{rest:path}", off)])

    def slack_down(request: Request, exc: Exception) -> Response:
        return page(pages_templates, request, "error.html", {
            "viewer": None, "title": "Slack is not answering",
            "message": "The portal asks Slack who you are and which channels you are in, and "
                       "Slack did not answer. Please try again in a minute."}, status=503)

    def bad_period(request: Request, exc: Exception) -> Response:
        return page(pages_templates, request, "error.html", {
            "viewer": None, "title": "Unknown period",
            "message": f"This page cannot show that period: {exc}."}, status=400)

    redact_share_tokens_in_logs()
    return Starlette(
        routes=Pages(deps, portal, pages_templates).routes(),
        exception_handlers={SlackUnavailable: slack_down, BadPeriod: bad_period},
        middleware=[Middleware(
            SessionMiddleware, secret_key=portal.session_secret, session_cookie=COOKIE,
            max_age=auth.SESSION_HOURS * 3600, path="/portal", same_site="lax",
            https_only=portal.secure_cookies,
        )],
    )


_TOKEN_IN_TEXT = re.compile(r"(/portal/s/)[A-Za-z0-9_\-]{8,}")
# slack_sdk logs whole request bodies at DEBUG, and the answer to `/sla portal share` holds a
# link: these loggers get a filter that blanks share tokens out of every record.
_LOGGERS_WITH_BODIES = ("slack_sdk.webhook.client", "slack_sdk.web.base_client",
                        "slack_bolt.App", "slack_bolt")


class RedactShareTokens(logging.Filter):
    """Replace `/portal/s/<token>` with `/portal/s/[redacted]` in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/portal/s/" in message:
            record.msg, record.args = _TOKEN_IN_TEXT.sub(r"\1[redacted]", message), ()
        return True


def redact_share_tokens_in_logs() -> None:
    """Install the filter once on the loggers that may print a reply's body."""
    for name in _LOGGERS_WITH_BODIES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactShareTokens) for f in logger.filters):
            logger.addFilter(RedactShareTokens())
