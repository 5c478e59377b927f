"""The columns of a ticket that its computed clock decides (``sla.clock.TicketClock``):
status, priority, each metric's target, instants, elapsed time and breach, and when the
scheduler looks next."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

from sqlmodel import Session

from sla.breach import AT_RISK_FRACTION
from sla.clock import MetricClock, MetricState, TicketClock
from sla.policy import Policy
from sla.targets import Metric, Priority
from storage.models import Ticket, TicketStatus, stored_id
from storage.repositories import responder_rollups, rollups


class _FromClock(Enum):
    TOKEN = "from the clock"


# The default ``next_due_at``: now while a metric runs, else never (see ``clock_columns``).
FROM_CLOCK: Final = _FromClock.TOKEN
NextDue = datetime | None | Literal[_FromClock.TOKEN]

_METRIC_FIELDS = ("target_s", "started_at", "due_at", "at_risk_at", "stopped_at", "elapsed_s",
                  "breached")


def apply_clock(
    *,
    session: Session,
    ticket: Ticket,
    clock: TicketClock,
    next_due_at: NextDue = FROM_CLOCK,
    at_risk_fraction: float = AT_RISK_FRACTION,
    policy: Policy | None = None,
) -> Ticket:
    """Store a freshly computed clock on the ticket: status, priority, per-metric columns.

    ``next_due_at`` defaults to ``clock.now`` while any metric runs (so the scheduler plans
    the ticket right after every change, including thresholds a change made overdue) and to
    None otherwise; the scheduler passes its plan's ``next_wake_at``. The daily rollups move
    with the stored columns, and the responder rollups with the clock, in the same unit of
    work (pass the ``policy`` the clock was computed under; else the one in force is read).
    """
    before = rollups.ticket_image(ticket)
    for name, value in clock_columns(clock, next_due_at, at_risk_fraction).items():
        setattr(ticket, name, value)
    ticket.touch()
    session.add(ticket)
    session.flush()
    rollups.track(session.connection(), before, rollups.ticket_image(ticket))
    responder_rollups.track(session, [stored_id(ticket)], policy=policy)
    return ticket


def clock_columns(
    clock: TicketClock, next_due_at: NextDue, at_risk_fraction: float
) -> dict[str, Any]:
    """The ticket columns that ``clock`` decides: status, priority, per-metric columns."""
    columns: dict[str, Any] = {}
    for metric in Metric:
        columns.update(_metric_columns(metric, clock.metrics.get(metric), at_risk_fraction))
    columns["priority"] = Priority.parse(clock.priority).value
    if clock.resolved:
        columns["status"] = TicketStatus.RESOLVED.value
    elif clock.paused:
        columns["status"] = TicketStatus.PAUSED.value
    else:
        columns["status"] = TicketStatus.OPEN.value
    if next_due_at is FROM_CLOCK:
        running = any(m.running for m in clock.metrics.values())
        next_due_at = clock.now if running else None
    columns["next_due_at"] = next_due_at
    return columns


def _metric_columns(
    metric: Metric, clock: MetricClock | None, fraction: float
) -> dict[str, Any]:
    prefix = metric.value
    if clock is None:
        return {f"{prefix}_{name}": None for name in _METRIC_FIELDS}
    at_risk_at = None
    if clock.stopped_at is None and clock.state is not MetricState.PAUSED:
        at_risk_at = clock.instant_at_fraction(fraction)
    return {
        f"{prefix}_target_s": clock.target.total_seconds(),
        f"{prefix}_started_at": clock.started_at,
        f"{prefix}_due_at": clock.due_at,
        f"{prefix}_at_risk_at": at_risk_at,
        f"{prefix}_stopped_at": clock.stopped_at,
        f"{prefix}_elapsed_s": clock.elapsed.total_seconds(),
        f"{prefix}_breached": clock.breached,
    }
