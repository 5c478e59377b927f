"""How every portal answer is made: the templates, the security headers, the CSV download."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.views.formats import format_business, format_percent, metric_name
from commands.report_csv import TicketCsvRow, tickets_csv
from sla.periods import Period

HEADERS = {
    # No script at all; matplotlib's SVG carries inline style attributes.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self' https://slack.com; frame-ancestors 'none'; "
    "base-uri 'none'",
    # Share links carry their token in the path: never hand it to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class BadPeriod(ValueError):
    """The period in the URL is not one `/sla report` reads; the message says why."""


def templates() -> Jinja2Templates:
    """The portal's Jinja2 templates (autoescaped), with its number filters."""
    env = Environment(loader=PackageLoader("bot.portal", "templates"),
                      autoescape=select_autoescape(["html"], default=True))
    env.filters.update(percent=format_percent, business=format_business, metric=metric_name)
    return Jinja2Templates(env=env)


def page(templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any],
         status: int = 200) -> Response:
    """A rendered page with the portal's headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(HEADERS)
    return response


def redirect(url: str) -> Response:
    """A 303 to `url` with the portal's headers."""
    response = RedirectResponse(url, status_code=303)
    response.headers.update(HEADERS)
    return response


def csv_download(rows: Sequence[TicketCsvRow] | str, name: str, period: Period) -> Response:
    """The tickets of a period (or CSV text made otherwise) as a CSV file named after what
    and when."""
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in
                   f"sla-{name}-{period.label}".lower())
    content = rows if isinstance(rows, str) else tickets_csv(rows)
    response = Response(content, media_type="text/csv; charset=utf-8")
    response.headers.update(HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return response
