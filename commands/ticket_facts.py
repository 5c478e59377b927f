"""What reports, digests, the portal and the CSV need of each ticket of a period.

Resolved tickets carry their final stored results. An open ticket's stored elapsed time is a
snapshot of its last change, so its clock is recomputed at `now` from its history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from commands.clocks import clock_of, policy_of
from sla.compliance import MetricOutcome, outcomes_from_clock
from sla.events import ClockError
from sla.periods import Period
from sla.policy import Policy
from sla.targets import Priority
from storage.mappers import metric_outcomes
from storage.models import Ticket, TicketStatus
from storage.repositories.ticket_lists import list_tickets_in_period

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
    """Tickets alive in [start, end) with their outcomes; open ones get a fresh clock at `now`."""
    policies: dict[str, Policy] = {}
    facts = []
    for ticket in list_tickets_in_period(
        session=session, workspace_id=workspace_id, start=start, end=end, channel_id=channel_id
    ):
        outcomes = metric_outcomes(ticket)
        if ticket.status != TicketStatus.RESOLVED.value:
            if ticket.channel_id not in policies:
                policies[ticket.channel_id] = policy_of(session, ticket)
            outcomes = _outcomes_now(session, ticket, now, policies[ticket.channel_id], outcomes)
        facts.append(TicketFacts(
            ticket.key, ticket.channel_id, ticket.priority, ticket.status, ticket.created_at,
            ticket.first_response_at, ticket.resolved_at, tuple(outcomes), ticket.permalink,
        ))
    return facts


def _outcomes_now(session: Session, ticket: Ticket, now: datetime, policy: Policy,
                  stored: list[MetricOutcome]) -> list[MetricOutcome]:
    """An open ticket's outcomes from its clock at `now`, else the `stored` ones."""
    try:
        clock = clock_of(session, ticket, now, policy=policy)
    except ClockError as exc:
        # One ticket with a broken history must not sink the whole report.
        log.warning("report uses stored SLA results of %s: %s", ticket.key, exc)
        return stored
    return outcomes_from_clock(ticket.key, ticket.channel_id, Priority(ticket.priority),
                               ticket.assignee_id, clock)
