"""The portal's pages: who is signed in, what they may see, the numbers, rendered.

Pages are thin: read who is signed in, ask `Access` what they may see, take the numbers from
commands/portal.py (the same functions as `/sla report` and `/sla status`), render. Anything
a person may not see answers 404, exactly like something that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.config import PortalSettings
from bot.portal import auth
from bot.portal.access import Access
from bot.portal.chart import trend_svg
from bot.portal.insight import insight_routes
from bot.portal.responses import BadPeriod, csv_download, page, redirect
from commands import portal as pages
from commands import portal_details as details
from commands import share_links
from commands.deps import Deps
from commands.report_csv import CSV_COLUMNS, responders_csv
from commands.reporting import DEFAULT_GOAL_PERCENT
from commands.ticket_facts import TicketFacts
from sla.periods import Period, PeriodError
from sla.responders import ResponderRow
from storage.models import Ticket

TicketPage = tuple[Ticket, list[details.TimelineEntry], list[details.DueLine], TicketFacts]


@dataclass(frozen=True)
class _Looking:
    """A signed-in person looking at a period (and a channel) they may see."""

    viewer: auth.Viewer
    period: Period
    period_value: str
    channel_id: str = ""


class Pages:
    """The signed-in pages, the sign-in flow and the customer share pages."""

    def __init__(self, deps: Deps, portal: PortalSettings, templates: Jinja2Templates) -> None:
        self.deps = deps
        self.portal = portal
        self.templates = templates
        self.access = Access(deps)

    def routes(self) -> list[BaseRoute]:
        """Everything under /portal once the portal is on."""
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
            *insight_routes(self),
            Mount("/static", StaticFiles(packages=[("bot.portal", "static")]), name="static"),
        ]

    # ------------------------------------------------------------------ who sees what
    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return page(self.templates, request, name, context, status)

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
        return redirect("/portal/auth/login?next=" + quote(path, safe=""))

    def looking(self, request: Request, *, channel: bool = False,
                admin: bool = False) -> _Looking | Response:
        """Who is looking at which period (and channel): the sign-in page or a 404 instead
        when nobody is signed in or they may not see it."""
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        channel_id = request.path_params["channel_id"] if channel else ""
        if (admin and not self.access.is_admin(viewer.user_id)) or (
                channel and not self.may_see(viewer, channel_id)):
            return self.not_found(request, viewer)
        period, value = self.period(request)
        return _Looking(viewer, period, value, channel_id)

    def period(self, request: Request) -> tuple[Period, str]:
        now = self.deps.clock.now()
        _wid, tz = pages.workspace_of(self.deps, self.access.team_id())
        raw = (request.query_params.get("period") or pages.PERIODS[1])[:20]
        try:
            return pages.period_of(raw, tz=tz, now=now), raw
        except PeriodError as exc:
            raise BadPeriod(str(exc)) from None

    def common(self, viewer: auth.Viewer | None, period: Period,
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
        return redirect(auth.start_sign_in(
            request.session, self.portal, team_id=self.access.team_id(),
            next_path=request.query_params.get("next", "/portal/")))

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
        return redirect(next_path)

    def logout(self, request: Request) -> Response:
        request.session.clear()
        return redirect("/portal/")

    # ------------------------------------------------------------------ pages
    def home(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.render(request, "signin.html", viewer=None)
        if self.access.is_admin(viewer.user_id):
            return redirect("/portal/overview")
        period, value = self.period(request)
        channels = self.access.channels_of(viewer.user_id)
        return self.render(request, "home.html", channels=channels,
                           **self.common(viewer, period, value))

    def overview(self, request: Request) -> Response:
        seen = self.looking(request, admin=True)
        if isinstance(seen, Response):
            return seen
        ranked = pages.known_channels(self.deps, self.access.team_id())
        data = pages.compliance_page(self.deps, team_id=self.access.team_id(), channel_id=None,
                                     period=seen.period, ranked_channels=ranked)
        return self.render(request, "compliance.html", page=data, chart=_chart(data),
                           heading="All channels", csv_url="/portal/overview.csv",
                           policy=None, credits=None, shared=None, show_titles=True,
                           titles=data.titles,
                           **self.common(seen.viewer, seen.period, seen.period_value))

    def channel(self, request: Request) -> Response:
        seen = self.looking(request, channel=True)
        if isinstance(seen, Response):
            return seen
        return self.channel_page(request, seen.viewer, seen.channel_id, seen.period,
                                 seen.period_value, shared=None)

    def channel_page(
        self, request: Request, viewer: auth.Viewer | None, channel_id: str, period: Period,
        value: str, shared: share_links.SharedChannel | None,
    ) -> Response:
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
            request, "compliance.html", page=data, chart=_chart(data, goal),
            heading="#" + self.access.channel_name(channel_id), csv_url=csv_url,
            policy=policy, credits=credits, shared=shared, show_titles=show_titles,
            titles=data.titles if show_titles else {},
            **self.common(viewer, period, value),
        )

    def responders(self, request: Request) -> Response:
        seen = self.looking(request)
        if isinstance(seen, Response):
            return seen
        rows = self.responder_rows(seen.viewer, seen.period)
        return self.render(request, "responders.html", rows=rows,
                           **self.common(seen.viewer, seen.period, seen.period_value))

    def responder_rows(self, viewer: auth.Viewer, period: Period) -> list[ResponderRow]:
        """Everyone's rows for admins; a member's own row over the channels they are in."""
        team = self.access.team_id()
        if self.access.is_admin(viewer.user_id):
            return details.responders(self.deps, team_id=team, channel_ids=None, period=period)
        return details.responders(self.deps, team_id=team,
                                channel_ids=self.access.channels_of(viewer.user_id),
                                period=period, only_user=viewer.user_id)

    def ticket(self, request: Request) -> Response:
        seen = self.visible_ticket(request)
        if isinstance(seen, Response):
            return seen
        viewer, (ticket, events, dues, _fact) = seen
        period = Period(ticket.created_at, self.deps.clock.now(), "ticket")
        return self.render(request, "ticket.html", ticket=ticket, events=events, dues=dues,
                           **self.common(viewer, period, "30d"))

    def visible_ticket(self, request: Request) -> tuple[auth.Viewer, TicketPage] | Response:
        """The ticket in the URL and who looks at it; sign-in or 404 when they may not."""
        viewer = self.viewer(request)
        if viewer is None:
            return self.sign_in_first(request)
        key = request.path_params["key"].upper()[:40]
        found = details.ticket_page(self.deps, team_id=self.access.team_id(), key=key)
        if found is None or not self.access.may_see_channel(viewer.user_id,
                                                            found[0].channel_id):
            return self.not_found(request, viewer)
        return viewer, found

    # ------------------------------------------------------------------ customer links
    def shared(self, request: Request) -> Response:
        link = self.share_link(request)
        if link is None:
            return self.not_found(request)
        period, value = self.period(request)
        return self.channel_page(request, None, link.channel_id, period, value, shared=link)

    def share_link(self, request: Request) -> share_links.SharedChannel | None:
        """The live share link in the URL, if it is one of this workspace's."""
        link = share_links.open_share_link(self.deps, request.path_params["token"])
        return link if link is not None and link.team_id == self.access.team_id() else None

    # ------------------------------------------------------------------ CSV
    def overview_csv(self, request: Request) -> Response:
        seen = self.looking(request, admin=True)
        if isinstance(seen, Response):
            return seen
        facts = pages.period_tickets(self.deps, team_id=self.access.team_id(), channel_id=None,
                                     period=seen.period)
        return csv_download(pages.ticket_csv_rows(facts, seen.period), "all-channels",
                            seen.period)

    def channel_csv(self, request: Request) -> Response:
        seen = self.looking(request, channel=True)
        if isinstance(seen, Response):
            return seen
        facts = pages.period_tickets(self.deps, team_id=self.access.team_id(),
                                     channel_id=seen.channel_id, period=seen.period)
        return csv_download(pages.ticket_csv_rows(facts, seen.period), seen.channel_id,
                            seen.period)

    def responders_csv(self, request: Request) -> Response:
        seen = self.looking(request)
        if isinstance(seen, Response):
            return seen
        rows = self.responder_rows(seen.viewer, seen.period)
        return csv_download(responders_csv(rows, self.access.user_name), "responders",
                            seen.period)

    def ticket_csv(self, request: Request) -> Response:
        seen = self.visible_ticket(request)
        if isinstance(seen, Response):
            return seen
        _viewer, (ticket, _events, _dues, fact) = seen
        period = Period(ticket.created_at, self.deps.clock.now(), ticket.key)
        return csv_download(pages.ticket_csv_rows([fact], period), ticket.key, period)

    def shared_csv(self, request: Request) -> Response:
        link = self.share_link(request)
        if link is None:
            return self.not_found(request)
        period, _value = self.period(request)
        facts = pages.period_tickets(self.deps, team_id=link.team_id,
                                     channel_id=link.channel_id, period=period)
        rows = pages.ticket_csv_rows(facts, period)
        if not link.details:  # without details, no way into the threads either
            rows = [replace(row, link="") for row in rows]
        return csv_download(rows, link.channel_id, period)


def _chart(data: pages.CompliancePage, goal: float | None = None) -> Markup:
    # matplotlib's own output (numbers and dates only, no user text): safe to inline.
    return Markup(trend_svg(data.trend, goal_percent=goal))


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
