"""The portal's insight pages: a ticket's explain ledger (`/sla explain`) and a channel's
breach forecast (`/sla status`'s, looking a few business days ahead).

Same rules as every portal page: signed in first; a ticket's ledger only for someone who
may see its channel, a channel's forecast only for a channel with SLA data they are in
(admins: any); anything else answers 404 like something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.portal.access import Access
from bot.portal.auth import Viewer
from bot.views.explain import threshold_text
from commands.deps import Deps
from commands.explain import ticket_ledger
from commands.forecasts import PORTAL_FORECAST_HOURS, channel_forecast
from commands.portal import PERIODS
from sla.durations import format_duration
from sla.ledger import MetricLedger
from sla.segments import SegmentKind


class PortalPages(Protocol):
    """What the insight pages use of the portal's signed-in pages."""

    deps: Deps
    access: Access

    def viewer(self, request: Request) -> Viewer | None: ...

    def may_see(self, viewer: Viewer, channel_id: str) -> bool: ...

    def render(self, request: Request, name: str, status: int = 200,
               **context: Any) -> Response: ...

    def not_found(self, request: Request, viewer: Viewer | None = None) -> Response: ...

    def sign_in_first(self, request: Request) -> Response: ...


def insight_routes(pages: PortalPages) -> list[BaseRoute]:
    """The routes to list among the portal's (paths that `/t/{key}` and `/c/{id}` leave)."""
    return [
        Route("/t/{key}/explain", partial(explain_page, pages)),
        Route("/c/{channel_id}/forecast", partial(forecast_page, pages)),
    ]


def explain_page(pages: PortalPages, request: Request) -> Response:
    """Where every second of a ticket's clocks went, and why it stands where it does."""
    viewer = pages.viewer(request)
    if viewer is None:
        return pages.sign_in_first(request)
    key = request.path_params["key"].upper()[:40]
    found = ticket_ledger(pages.deps, team_id=pages.access.team_id(), key=key)
    if found is None or not pages.access.may_see_channel(viewer.user_id, found.channel_id):
        return pages.not_found(request, viewer)
    zone = ZoneInfo(found.tz)
    return pages.render(
        request, "explain.html", page=found, **_frame(pages, viewer, request, found.tz),
        thresholds=lambda m: " · ".join(threshold_text(t, zone) for t in m.thresholds),
        closed=_closed_totals,
    )


def forecast_page(pages: PortalPages, request: Request) -> Response:
    """The channel's waiting tickets likely to breach in the next business hours."""
    viewer = pages.viewer(request)
    if viewer is None:
        return pages.sign_in_first(request)
    channel_id = request.path_params["channel_id"]
    if not pages.may_see(viewer, channel_id):
        return pages.not_found(request, viewer)
    found = channel_forecast(pages.deps, team_id=pages.access.team_id(), channel_id=channel_id)
    return pages.render(request, "forecast.html", found=found, hours=PORTAL_FORECAST_HOURS,
                        **_frame(pages, viewer, request, found.forecast.tz))


def _frame(pages: PortalPages, viewer: Viewer, request: Request,
           tz: str) -> dict[str, Any]:
    """What base.html and every page read: who, the period links keep, names, the zone."""
    return {
        "viewer": viewer,
        "is_admin": pages.access.is_admin(viewer.user_id),
        "period_value": (request.query_params.get("period") or PERIODS[1])[:20],
        "tz": tz,
        "when": _local(tz),
        "channel_name": pages.access.channel_name,
    }


def _local(tz: str) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(tz)
    return lambda at: "—" if at is None else at.astimezone(zone).strftime("%a %d %b %H:%M")


def _closed_totals(metric: MetricLedger) -> list[tuple[str, str]]:
    """Wall time outside business hours and on holidays, when there was any."""
    return [(kind.value, format_duration(metric.total(kind)))
            for kind in (SegmentKind.CLOSED, SegmentKind.HOLIDAY) if metric.total(kind)]
