"""The portal's web pages under /portal: Starlette routes, Jinja2 templates (autoescaped).

Pages are thin: read who is signed in, ask `Access` what they may see, take the numbers from
commands/portal.py and portal_details.py (the same functions as `/sla report` and `/sla
status`), render. Anything a person may not see answers 404, exactly like something that
does not exist.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.portal import auth
from bot.portal.access import Access, SlackUnavailable
from bot.portal.chart import trend_svg
from bot.views.formats import format_business, format_percent, metric_name
from commands import portal as pages
from commands import portal_details as details
from commands import share_links
from commands.report_csv import CSV_COLUMNS, tickets_csv
from commands.reporting import DEFAULT_GOAL_PERCENT
from sla.periods import Period, PeriodError

log = logging.getLogger(__name__)

COOKIE = "slabot_portal"
_HEADERS = {
    # No script at all; matplotlib's SVG carries inline style attributes.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self' https://slack.com; frame-ancestors 'none'; "
    "base-uri 'none'",
    # Share links carry their token in the path: never hand it to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def portal_routes(deps: Any) -> list[BaseRoute]:
    """Routes to add to the bot's Starlette app: everything under /portal."""
    return [Mount("/portal", app=build_portal(deps), name="portal")]


def build_portal(deps: Any) -> Starlette:
    """The portal app: a page saying how to turn it on while its settings are missing."""
    templates = _templates()
    portal = getattr(deps.settings, "portal", None)
    if portal is None:
        def off(request: Request) -> Response:
            return _page(templates, request, "off.html", {}, status=200)

        return Starlette(routes=[Route("/", off), Route("/{rest:path}", off)])
    def slack_down(request: Request, exc: Exception) -> Response:
        return _page(templates, request, "error.html", {
            "viewer": None, "title": "Slack is not answering",
            "message": "The portal asks Slack who you are and which channels you are in, and "
                       "Slack did not answer. Please try again in a minute."}, status=503)

    def bad_period(request: Request, exc: Exception) -> Response:
        return _page(templates, request, "error.html", {
            "viewer": None, "title": "Unknown period",
            "message": f"This page cannot show that period: {exc}."}, status=400)

    redact_share_tokens_in_logs()
    return Starlette(
        routes=_Pages(deps, portal, templates).routes(),
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


def _templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("bot.portal", "templates"),
                      autoescape=select_autoescape(["html"], default=True))
    env.filters.update(percent=format_percent, business=format_business, metric=metric_name)
    return Jinja2Templates(env=env)


def _page(templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any],
          status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(_HEADERS)
    return response


class BadPeriod(ValueError):
    """The period in the URL is not one `/sla report` reads; the message says why."""


class _Pages:
    """The signed-in pages, the sign-in flow and the customer share pages."""

    def __init__(self, deps: Any, portal: Any, templates: Jinja2Templates) -> None:
        self.deps = deps
        self.portal = portal
        self.templates = templates
        self.access = Access(deps)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/auth/login", self.login),
            Route("/auth/callback", self.callback),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/overview", self.overview),
            Route("/overview.csv", self.overview_csv),
            # The .csv routes first: `{channel_id}` would also match `C123.csv`.
            Route("/c/{channel_id}.csv", self.channel_csv),
            Route("/c/{channel_id}", self.channel),
            Route("/responders", self.responders),
            Route("/responders.csv", self.responders_csv),
            Route("/t/{key}.csv", self.ticket_csv),
            Route("/t/{key}", self.ticket),
            Route("/s/{token}.csv", self.shared_csv),
            Route("/s/{token}", self.shared),
            Mount("/static", StaticFiles(packages=[("bot.portal", "static")]), name="static"),
        ]

    # ------------------------------------------------------------------ helpers
    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return _page(self.templates, request, name, context, status)

    def not_found(self, request: Request, viewer: auth.Viewer | None = None) -> Response:
        return self.render(request, "error.html", 404, viewer=viewer, title="Not found",
                           message="There is nothing here you can see.")

    def viewer(self, request: Request) -> auth.Viewer | None:
        found = auth.viewer_of(request.session, self.deps.clock.now())
        if found is not None and found.team_id != self.access.team_id():
            request.session.clear()  # a session from another installation of the bot
            return None
        return found

    def may_see(self, viewer: auth.Viewer, channel_id: str) -> bool:
        """A channel with SLA data that the viewer is in (admins: any such channel)."""
        return (channel_id in pages.known_channels(self.deps, self.access.team_id())
                and self.access.may_see_channel(viewer.user_id, channel_id))

    def sign_in_first(self, request: Request) -> Response:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        response = RedirectResponse("/portal/auth/login?next=" + _quote(path), status_code=303)
        response.headers.update(_HEADERS)
        return response

    def period(self, request: Request) -> tuple[Period, str]:
        now = self.deps.clock.now()
        _wid, tz = pages.workspace_of(self.deps, self.access.team_id())
        raw = (request.query_params.get("period") or pages.PERIODS[1])[:20]
        try:
            return pages.period_of(raw, tz=tz, now=now), raw
        except PeriodError as exc:
            raise BadPeriod(str(exc)) from None

    def common(self, request: Request, viewer: auth.Viewer | None, period: Period,
               period_value: str) -> dict[str, Any]:
        now = self.deps.clock.now()
        _wid, tz = pages.workspace_of(self.deps, self.access.team_id())
        return {
            "viewer": viewer,
            "is_admin": bool(viewer and self.access.is_admin(viewer.user_id)),
            "period": period,
            "period_value": period_value,
            "period_choices": _period_choices(now, tz),
            "tz": tz,
            "when": lambda at: _when(at, tz),
            "channel_name": self.access.channel_name,
            "user_name": self.access.user_name,
            "columns": CSV_COLUMNS,
        }

    # ------------------------------------------------------------------ sign-in
    def login(self, request: Request) -> Response:
        url = auth.start_sign_in(request.session, self.portal, team_id=self.access.team_id(),
                                 next_path=request.query_params.get("next", "/portal/"))
        response = RedirectResponse(url, status_code=303)
        response.headers.update(_HEADERS)
        return response

    def callback(self, request: Request) -> Response:
        try:
            next_path = auth.finish_sign_in(
                request.session, self.portal, api_url=self.deps.settings.slack_api_url,
                query=dict(request.query_params), bot_team_id=self.access.team_id(),
                now=self.deps.clock.now(),
            )
        except auth.SignInError as exc:
            request.session.clear()
            return self.render(request, "error.html", 400, viewer=None,
                               title="Sign-in failed", message=str(exc), sign_in=True)
        response = RedirectResponse(next_path, status_code=303)
        response.headers.update(_HEADERS)
        return response

    def logout(self, request: Request) -> Response:
        request.session.clear()
        response = RedirectResponse("/portal/", status_code=303)
        response.headers.update(_HEADERS)
        return response

    # ------------------------------------------------------------------ pages
    def home(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.render(request, "signin.html", viewer=None)
        if self.access.is_admin(viewer.user_id):
            return RedirectResponse("/portal/overview", status_code=303)
        period, value = self.period(request)
        channels = self.access.channels_of(viewer.user_id)
        return self.render(request, "home.html", channels=channels,
                           **self.common(request, viewer, period, value))

    def overview(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        if not self.access.is_admin(viewer.user_id):
            return self.not_found(request, viewer)
        period, value = self.period(request)
        ranked = pages.known_channels(self.deps, self.access.team_id())
        data = pages.compliance_page(self.deps, team_id=self.access.team_id(), channel_id=None,
                                     period=period, ranked_channels=ranked)
        return self.render(request, "compliance.html", page=data, chart=self.chart(data),
                           heading="All channels", csv_url="/portal/overview.csv",
                           policy=None, credits=None, shared=None, show_titles=True,
                           titles=data.titles,
                           **self.common(request, viewer, period, value))

    def channel(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        channel_id = request.path_params["channel_id"]
        if not self.may_see(viewer, channel_id):
            return self.not_found(request, viewer)
        period, value = self.period(request)
        return self.channel_page(request, viewer, channel_id, period, value, shared=None)

    def channel_page(self, request: Request, viewer: auth.Viewer | None, channel_id: str,
                     period: Period, value: str, shared: Any) -> Response:
        team = self.access.team_id()
        data = pages.compliance_page(self.deps, team_id=team, channel_id=channel_id,
                                     period=period)
        policy = details.policy_view(self.deps, team_id=team, channel_id=channel_id)
        credits = details.monthly_credits(self.deps, team_id=team, channel_id=channel_id)
        show_titles = shared is None or shared.details
        csv_url = (f"/portal/s/{request.path_params['token']}.csv" if shared is not None
                   else f"/portal/c/{channel_id}.csv")
        goal = policy.credits[0][0] if policy.credits else DEFAULT_GOAL_PERCENT
        return self.render(
            request, "compliance.html", page=data, chart=self.chart(data, goal),
            heading="#" + self.access.channel_name(channel_id), csv_url=csv_url,
            policy=policy, credits=credits, shared=shared, show_titles=show_titles,
            titles=data.titles if show_titles else {},
            **self.common(request, viewer, period, value),
        )

    def responders(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        period, value = self.period(request)
        rows, _facts = self.responder_rows(viewer, period)
        return self.render(request, "responders.html", rows=rows,
                           **self.common(request, viewer, period, value))

    def responder_rows(self, viewer: auth.Viewer, period: Period) -> tuple[list, list]:
        team = self.access.team_id()
        if self.access.is_admin(viewer.user_id):
            return details.responders(self.deps, team_id=team, channel_ids=None, period=period)
        return details.responders(self.deps, team_id=team,
                                channel_ids=self.access.channels_of(viewer.user_id),
                                period=period, only_user=viewer.user_id)

    def ticket(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        found = self.visible_ticket(request, viewer)
        if found is None:
            return self.not_found(request, viewer)
        ticket, events, dues, _fact = found
        now = self.deps.clock.now()
        period = Period(ticket.created_at, now, "ticket")
        return self.render(request, "ticket.html", ticket=ticket, events=events, dues=dues,
                           **self.common(request, viewer, period, "30d"))

    def visible_ticket(self, request: Request, viewer: auth.Viewer) -> Any:
        key = request.path_params["key"].upper()[:40]
        found = details.ticket_page(self.deps, team_id=self.access.team_id(), key=key)
        if found is None or not self.access.may_see_channel(viewer.user_id,
                                                            found[0].channel_id):
            return None
        return found

    # ------------------------------------------------------------------ customer links
    def shared(self, request: Request) -> Response:
        link = share_links.open_share_link(self.deps, request.path_params["token"])
        if link is None or link.team_id != self.access.team_id():
            return self.not_found(request)
        period, value = self.period(request)
        return self.channel_page(request, None, link.channel_id, period, value, shared=link)

    # ------------------------------------------------------------------ CSV
    def overview_csv(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        if not self.access.is_admin(viewer.user_id):
            return self.not_found(request, viewer)
        period, _value = self.period(request)
        facts = pages.period_tickets(self.deps, team_id=self.access.team_id(), channel_id=None,
                                     period=period)
        return _csv(pages.ticket_csv_rows(facts, period), "all-channels", period)

    def channel_csv(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        channel_id = request.path_params["channel_id"]
        if not self.may_see(viewer, channel_id):
            return self.not_found(request, viewer)
        period, _value = self.period(request)
        facts = pages.period_tickets(self.deps, team_id=self.access.team_id(),
                                     channel_id=channel_id, period=period)
        return _csv(pages.ticket_csv_rows(facts, period), channel_id, period)

    def responders_csv(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        period, _value = self.period(request)
        _rows, facts = self.responder_rows(viewer, period)
        return _csv(pages.ticket_csv_rows(facts, period), "responders", period)

    def ticket_csv(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        found = self.visible_ticket(request, viewer)
        if found is None:
            return self.not_found(request, viewer)
        ticket, _events, _dues, fact = found
        period = Period(ticket.created_at, self.deps.clock.now(), ticket.key)
        return _csv(pages.ticket_csv_rows([fact], period), ticket.key, period)

    def shared_csv(self, request: Request) -> Response:
        link = share_links.open_share_link(self.deps, request.path_params["token"])
        if link is None or link.team_id != self.access.team_id():
            return self.not_found(request)
        period, _value = self.period(request)
        facts = pages.period_tickets(self.deps, team_id=link.team_id,
                                     channel_id=link.channel_id, period=period)
        rows = pages.ticket_csv_rows(facts, period)
        if not link.details:  # without details, no way into the threads either
            rows = [replace(row, link="") for row in rows]
        return _csv(rows, link.channel_id, period)

    # ------------------------------------------------------------------ bits
    def chart(self, data: pages.CompliancePage, goal: float | None = None) -> Markup:
        # matplotlib's own output (numbers and dates only, no user text): safe to inline.
        return Markup(trend_svg(data.trend, goal_percent=goal))


def _csv(rows: Any, name: str, period: Period) -> Response:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in
                   f"sla-{name}-{period.label}".lower())
    response = Response(tickets_csv(rows), media_type="text/csv; charset=utf-8")
    response.headers.update(_HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return response


def _when(at: datetime | None, tz: str) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def _period_choices(now: datetime, tz: str) -> list[tuple[str, str]]:
    choices = [("7d", "Last 7 days"), ("30d", "Last 30 days"), ("90d", "Last 90 days")]
    local = now.astimezone(ZoneInfo(tz))
    year, month = local.year, local.month
    for _ in range(12):
        choices.append((f"{year:04d}-{month:02d}",
                        date(year, month, 1).strftime("%B %Y")))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
