"""Rows -> domain objects (``sla``): the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

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


def metric_outcomes(ticket: Ticket) -> list[MetricOutcome]:
    """The stored per-metric results of a ticket, as ``sla.compliance`` reads them."""
    outcomes = []
    for metric in Metric:
        prefix = metric.value
        target_s = getattr(ticket, f"{prefix}_target_s")
        started_at = getattr(ticket, f"{prefix}_started_at")
        if target_s is None or started_at is None:
            continue
        outcomes.append(
            MetricOutcome(
                ticket_key=ticket.key,
                channel=ticket.channel_id,
                priority=Priority(ticket.priority),
                assignee=ticket.assignee_id,
                metric=metric,
                target=timedelta(seconds=target_s),
                started_at=started_at,
                stopped_at=getattr(ticket, f"{prefix}_stopped_at"),
                elapsed=timedelta(seconds=getattr(ticket, f"{prefix}_elapsed_s") or 0),
                breached=bool(getattr(ticket, f"{prefix}_breached")),
                due_at=getattr(ticket, f"{prefix}_due_at"),
            )
        )
    return outcomes
