"""What the digest tells beyond the week's figures: the near misses, and the cause of each
breach read from the breached ticket's ledger (`sla.causes`, the rules `/sla explain` uses).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from sla.breach import Standing, is_near_miss, period_standing
from sla.causes import handoffs
from sla.compliance import MetricOutcome
from sla.events import ClockError
from sla.ledger import explain
from sla.periods import Period
from sla.policy import Policy
from sla.responders import ActorEvent
from storage import repositories as repo
from storage.repositories.histories import PeriodTicket, load_period_tickets

log = logging.getLogger(__name__)

# A breach of one ticket's metric, as the digest lists it: (ticket key, metric).
BreachKey = tuple[str, str]


@dataclass(frozen=True)
class NearMissRow:
    """A metric met in the period with under a tenth of its target to spare."""

    ticket_key: str
    channel_id: str
    priority: str
    metric: str
    spare: timedelta
    target: timedelta
    link: str | None = None


def near_miss_rows(
    outcomes: Iterable[MetricOutcome], period: Period, now: datetime,
    links: Mapping[str, str | None],
) -> tuple[NearMissRow, ...]:
    """The near misses among the metrics met in `period` (`sla.breach`), closest first."""
    rows = [
        NearMissRow(o.ticket_key, o.channel, str(o.priority), str(o.metric),
                    o.target - o.elapsed, o.target, links.get(o.ticket_key))
        for o in outcomes
        if period_standing(o, period.start, period.end, now) is Standing.MET
        and is_near_miss(o.elapsed, o.target)
    ]
    return tuple(sorted(rows, key=lambda r: (r.spare / r.target, r.ticket_key, r.metric)))


def breach_causes(
    session: Session, *, workspace_id: int, channel_id: str | None, period: Period,
    breaches: Collection[BreachKey], now: datetime,
) -> dict[BreachKey, str]:
    """The cause, in one phrase, of each of `breaches` (tickets alive in `period`), from the
    ticket's ledger at `now`; a breach whose history cannot be replayed has none."""
    keys = {key for key, _metric in breaches}
    if not keys:
        return {}
    tickets = [t for t in load_period_tickets(session=session, workspace_id=workspace_id,
                                              start=period.start, end=period.end,
                                              channel_id=channel_id)
               if t.key in keys]
    policies: dict[str, Policy] = {}
    found: dict[BreachKey, str] = {}
    for ticket in tickets:
        if ticket.channel_id not in policies:
            policies[ticket.channel_id] = repo.get_policy(
                session=session, workspace_id=workspace_id, channel_id=ticket.channel_id)
        for metric, phrase in _causes(ticket, policies[ticket.channel_id], now).items():
            if (ticket.key, metric) in breaches:
                found[(ticket.key, metric)] = phrase
    return found


def _causes(ticket: PeriodTicket, policy: Policy, now: datetime) -> dict[str, str]:
    """Each breached metric of `ticket` with its cause's phrase."""
    moves = handoffs(ActorEvent(e.kind, e.at, e.actor_id, e.note) for e in ticket.events)
    try:
        ledger = explain(ticket.history().events, policy, now, handed_over=moves)
    except ClockError as exc:
        log.warning("digest names no breach cause for %s: %s", ticket.key, exc)
        return {}
    return {str(m.metric): m.cause.phrase for m in ledger.metrics if m.cause is not None}
