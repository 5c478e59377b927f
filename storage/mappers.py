"""Rows -> domain objects (``sla``): the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Row

from sla.compliance import MetricOutcome
from sla.escalation import SentNudge
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, PolicyError, Priority
from storage.errors import InvalidStoredPolicy
from storage.models import Nudge, PolicyRow, Ticket, TicketEvent

_CLOCK_KINDS = {kind.value for kind in EventKind}


def clock_events(rows: Iterable[TicketEvent]) -> list[ClockEvent]:
    """The clock-relevant events of a ticket, in stored order (other kinds, e.g. notes, skipped)."""
    return [
        ClockEvent(EventKind(row.kind), row.at, Priority(row.priority) if row.priority else None)
        for row in rows
        if row.kind in _CLOCK_KINDS
    ]


def policy_from_row(row: PolicyRow) -> Policy:
    """Build the ``Policy`` a row stores; a spec that no longer validates is a clear error."""
    try:
        return Policy.from_spec(row.spec)
    except (PolicyError, ValueError) as exc:
        raise InvalidStoredPolicy(
            f"stored policy {row.name!r} (id {row.id}) is invalid: {exc}"
        ) from exc


def sent_nudges(rows: Iterable[Nudge]) -> list[SentNudge]:
    """Every nudge already in the outbox (any state) as ``SentNudge``: none of them fires again."""
    return [SentNudge(Metric(row.metric), row.threshold, row.seq, row.cycle) for row in rows]


# Per metric: its stored columns' names (getattr on a row is the hot part of a big report).
_METRIC_NAMES = tuple(
    (metric, f"{metric}_target_s", f"{metric}_started_at", f"{metric}_stopped_at",
     f"{metric}_elapsed_s", f"{metric}_breached", f"{metric}_due_at")
    for metric in Metric
)


def metric_outcomes(ticket: Ticket | Row[Any]) -> list[MetricOutcome]:
    """The stored per-metric results of a ticket (or a row of its columns, by their names),
    as ``sla.compliance`` reads them."""
    outcomes = []
    priority = Priority(ticket.priority)
    for metric, target, started, stopped, elapsed, breached, due in _METRIC_NAMES:
        target_s = getattr(ticket, target)
        started_at = getattr(ticket, started)
        if target_s is None or started_at is None:
            continue
        outcomes.append(
            MetricOutcome(
                ticket_key=ticket.key,
                channel=ticket.channel_id,
                priority=priority,
                assignee=ticket.assignee_id,
                metric=metric,
                target=timedelta(seconds=target_s),
                started_at=started_at,
                stopped_at=getattr(ticket, stopped),
                elapsed=timedelta(seconds=getattr(ticket, elapsed) or 0),
                breached=bool(getattr(ticket, breached)),
                due_at=getattr(ticket, due),
            )
        )
    return outcomes
