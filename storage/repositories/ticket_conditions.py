"""SQL conditions on ticket rows shared by the ticket lists, the status counts and the
compliance aggregates; above all the breach / at-risk rule, written once.

The rule is ``sla.compliance``'s for an open metric (its module docstring, "breached by t"
and "at risk"), read off the stored columns of ``storage.models.Ticket``. Those columns
are the clock at its last update, so the rule also reads what happened since: a due
instant already passed is a breach, and the stored at-risk instant already passed means
the elapsed time reached the at-risk fraction (the one the clock was stored with).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, literal_column, not_, or_, true

from sla.targets import Metric
from storage.models import UNRESOLVED, Ticket
from storage.repositories._sql import table_of

TICKETS = table_of(Ticket)

# An instant or a number given as a value, or as a bound parameter of a cached statement.
Instant = datetime | ColumnElement[datetime]
Number = float | ColumnElement[float]


def metric_column(metric: Metric, name: str) -> ColumnElement[Any]:
    """A stored column of one metric: ``target_s``, ``started_at``, ``due_at``,
    ``at_risk_at``, ``stopped_at``, ``elapsed_s`` or ``breached``."""
    return TICKETS.c[f"{metric.value}_{name}"]


def unresolved() -> ColumnElement[bool]:
    """Not resolved, written like the partial index's predicate (a literal, not a bound
    parameter) so that the planner of either engine may use ``ix_tickets_unresolved``.
    Untyped on purpose: a Boolean literal would be compared with 1 on SQLite, which no
    longer matches the index's predicate."""
    return literal_column(f"tickets.{UNRESOLVED}")


def in_scope(
    workspace_id: int | ColumnElement[int],
    channel_id: str | ColumnElement[str] | None = None,
    assignee_id: str | None = None,
) -> list[ColumnElement[bool]]:
    """Tickets of a workspace, and of one channel and one assignee when they are given."""
    clauses = [TICKETS.c.workspace_id == workspace_id]
    if channel_id is not None:
        clauses.append(TICKETS.c.channel_id == channel_id)
    if assignee_id is not None:
        clauses.append(TICKETS.c.assignee_id == assignee_id)
    return clauses


def running(metric: Metric) -> ColumnElement[bool]:
    """Measured by the policy and not stopped yet (running, or paused)."""
    return and_(metric_column(metric, "target_s").is_not(None),
                metric_column(metric, "stopped_at").is_(None))


def breached_by(metric: Metric, t: Instant, *, seen_now: bool) -> ColumnElement[bool]:
    """``sla.compliance``'s "breached by t" of a metric open at ``t``: due before ``t``, or
    (seen at now, or paused without a due instant) its stored breach says so."""
    due = metric_column(metric, "due_at")
    return or_(
        and_(due.is_not(None), due < t),
        and_(metric_column(metric, "stopped_at").is_(None),
             metric_column(metric, "breached").is_(True),
             true() if seen_now else due.is_(None)),
    )


def at_risk_by(
    metric: Metric, t: Instant, *, horizon_end: Instant, fraction: Number
) -> ColumnElement[bool]:
    """``sla.compliance``'s "at risk" of a metric open at ``t`` that has not breached: at
    ``fraction`` of its target or more, or due by ``horizon_end`` (``t`` plus the horizon)."""
    due, at_risk_at = metric_column(metric, "due_at"), metric_column(metric, "at_risk_at")
    return or_(
        metric_column(metric, "elapsed_s") / metric_column(metric, "target_s") >= fraction,
        and_(at_risk_at.is_not(None), at_risk_at <= t),
        and_(due.is_not(None), due <= horizon_end),
    )


def ticket_breached(now: datetime) -> ColumnElement[bool]:
    """Some metric of the ticket runs (or is paused) and has breached by ``now``."""
    return or_(*(and_(running(m), breached_by(m, now, seen_now=True)) for m in Metric))


def ticket_at_risk(now: datetime, *, horizon_end: datetime, fraction: float) -> ColumnElement[bool]:
    """No metric of the ticket has breached by ``now`` and a running one is at risk."""
    return and_(
        not_(ticket_breached(now)),
        or_(*(and_(running(m), at_risk_by(m, now, horizon_end=horizon_end, fraction=fraction))
              for m in Metric)),
    )
