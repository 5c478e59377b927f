"""The CSV exports: a period's tickets (one row per ticket, instants in ISO 8601 UTC) and
its responders (one row per person, as the portal's table shows them).

Cells people typed go through `csv_cell`, so a spreadsheet never runs them as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from commands.text import csv_cell
from commands.ticket_facts import TicketFacts
from sla.compliance import MetricOutcome
from sla.periods import Period
from sla.responders import ResponderRow
from sla.targets import Metric

CSV_COLUMNS = (
    "ticket",
    "channel",
    "priority",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
    "first_response_business_seconds",
    "first_response_target_seconds",
    "first_response",
    "resolution_business_seconds",
    "resolution_target_seconds",
    "resolution",
    "link",
)

RESPONDER_COLUMNS = (
    "person",
    "user_id",
    "first_responses",
    "median_first_response_business_seconds",
    "resolved",
    "breaches_while_assigned",
)


@dataclass(frozen=True)
class TicketCsvRow:
    """One ticket of the CSV export; results are `met`, `breached` or `running`."""

    ticket: str
    channel: str
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_business: timedelta | None
    first_response_target: timedelta | None
    first_response: str
    resolution_business: timedelta | None
    resolution_target: timedelta | None
    resolution: str
    link: str = ""


def tickets_csv(rows: Iterable[TicketCsvRow]) -> str:
    """Render tickets as CSV text (header + one row per ticket; instants in ISO 8601 UTC)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                csv_cell(row.ticket),
                csv_cell(row.channel),
                csv_cell(row.priority),
                csv_cell(row.status),
                _iso(row.created_at),
                _iso(row.first_response_at),
                _iso(row.resolved_at),
                _seconds(row.first_response_business),
                _seconds(row.first_response_target),
                csv_cell(row.first_response),
                _seconds(row.resolution_business),
                _seconds(row.resolution_target),
                csv_cell(row.resolution),
                csv_cell(row.link),
            ]
        )
    return buffer.getvalue()


def responders_csv(rows: Iterable[ResponderRow], name_of: Callable[[str], str]) -> str:
    """Render responder rows as CSV text (header + one row per person, named by
    `name_of`); the median in business seconds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESPONDER_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(name_of(row.user_id)), csv_cell(row.user_id),
                         row.first_responses, _seconds(row.median_first_response),
                         row.resolutions, row.breaches_assigned])
    return buffer.getvalue()


def csv_rows(facts: Iterable[TicketFacts], *, period: Period) -> list[TicketCsvRow]:
    """One CSV row per ticket alive in `period`, oldest first."""
    alive = sorted((f for f in facts if f.alive_in(period)), key=lambda f: f.created_at)
    return [_row(fact) for fact in alive]


def _row(fact: TicketFacts) -> TicketCsvRow:
    by_metric = {o.metric: o for o in fact.outcomes}
    first, resolution = by_metric.get(Metric.FIRST_RESPONSE), by_metric.get(Metric.RESOLUTION)
    return TicketCsvRow(
        fact.key, fact.channel_id, fact.priority, fact.status, fact.created_at,
        fact.first_response_at, fact.resolved_at,
        first_response_business=first.elapsed if first else None,
        first_response_target=first.target if first else None,
        first_response=_result(first),
        resolution_business=resolution.elapsed if resolution else None,
        resolution_target=resolution.target if resolution else None,
        resolution=_result(resolution),
        link=fact.link or "",
    )


def _result(outcome: MetricOutcome | None) -> str:
    if outcome is None:
        return ""
    if outcome.breached:
        return "breached"
    return "met" if outcome.stopped_at is not None else "running"


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: timedelta | None) -> str:
    return "" if value is None else str(int(value.total_seconds()))
