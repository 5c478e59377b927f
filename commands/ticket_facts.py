"""What reports, digests, the portal and the CSV need of each ticket of a period.

Resolved tickets carry their final stored results. An open ticket's stored elapsed time is a
snapshot of its last change, so its clock is recomputed at `now` from its history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from commands.clocks import ChannelPolicies
from sla.clock import compute_clock
from sla.compliance import MetricOutcome, outcomes_from_clock
from sla.events import ClockError, ClockEvent
from sla.periods import Period
from sla.policy import Policy
from sla.targets import Priority
from storage.mappers import metric_outcomes
from storage.models import TicketStatus
from storage.repositories.ticket_lists import period_ticket_rows, unresolved_clock_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketFacts:
    """What reports need of one ticket: its identity, instants and metric outcomes."""

    key: str
    channel_id: str
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    outcomes: tuple[MetricOutcome, ...]
    link: str | None = None

    def alive_in(self, period: Period) -> bool:
        """Created before the period ends and not resolved before it starts."""
        return self.created_at < period.end and (
            self.resolved_at is None or self.resolved_at >= period.start
        )


def load_facts(
    *, session: Session, workspace_id: int, start: datetime, end: datetime, now: datetime,
    channel_id: str | None = None,
) -> list[TicketFacts]:
    """Tickets alive in [start, end) with their outcomes; open ones get a fresh clock at `now`
    (their histories read in one statement)."""
    policies = ChannelPolicies(session, workspace_id)
    histories = unresolved_clock_events(session=session, workspace_id=workspace_id,
                                        start=start, end=end, channel_id=channel_id)
    facts = []
    for row in period_ticket_rows(session=session, workspace_id=workspace_id, start=start,
                                  end=end, channel_id=channel_id):
        outcomes = metric_outcomes(row)
        if row.status != TicketStatus.RESOLVED.value:
            outcomes = _outcomes_now(row, histories.get(row.id, []), now,
                                     policies(row.channel_id), outcomes)
        facts.append(TicketFacts(
            row.key, row.channel_id, row.priority, row.status, row.created_at,
            row.first_response_at, row.resolved_at, tuple(outcomes), row.permalink,
        ))
    return facts


def _outcomes_now(row: Row[Any], events: list[ClockEvent], now: datetime, policy: Policy,
                  stored: list[MetricOutcome]) -> list[MetricOutcome]:
    """An open ticket's outcomes from its clock at `now`, else the `stored` ones."""
    try:
        clock = compute_clock(events, policy, now)
    except ClockError as exc:
        # One ticket with a broken history must not sink the whole report.
        log.warning("report uses stored SLA results of %s: %s", row.key, exc)
        return stored
    return outcomes_from_clock(row.key, row.channel_id, Priority(row.priority),
                               row.assignee_id, clock)
