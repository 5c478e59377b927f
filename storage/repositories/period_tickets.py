"""Tickets of a period counted without reading them: how many were alive in it (the number
a report states), from the daily ticket rollups; and when running targets fall due.

A ticket is alive in ``[start, end)`` when it was created before ``end`` and not resolved
before ``start``. Counted as: unresolved tickets, plus those resolved at or after ``start``,
less those created at or after ``end`` (a ticket is never resolved before it was created).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from sla.targets import Metric
from storage.repositories import rollup_edges as edges
from storage.repositories import rollup_reads as reads
from storage.repositories.rollup_days import after_part, ceil_day
from storage.repositories.ticket_conditions import TICKETS, in_scope, metric_column, running
from storage.repositories.ticket_conditions import unresolved as unresolved_ticket


def count_alive_tickets(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    channel_id: str | None = None,
) -> dict[str, int]:
    """Per channel with any: tickets alive in ``[start, end)`` (from the rollups)."""
    sums = reads.ticket_sums(session, workspace_id=workspace_id, channel_id=channel_id,
                             created_from=ceil_day(end), resolved_from=ceil_day(start))
    found = edges.ticket_edges(
        session, workspace_id=workspace_id, channel_id=channel_id,
        created_in=after_part(end) or (end, end), resolved_in=after_part(start) or (start, start))
    alive: Counter[str] = Counter()
    for channel, (created, resolved) in sums.items():
        alive[channel] += resolved - created
    for channel, (created, resolved, unresolved) in found.items():
        alive[channel] += unresolved + resolved - created
    return {channel: count for channel, count in sorted(alive.items()) if count}


def scan_alive_tickets(
    *, session: Session, workspace_id: int, start: datetime, end: datetime,
    channel_id: str | None = None,
) -> dict[str, int]:
    """``count_alive_tickets`` by a scan of the tickets (the reference it is checked with)."""
    c = TICKETS.c
    statement = (
        select(c.channel_id, func.count())
        .where(*in_scope(workspace_id, channel_id), c.created_at < end,
               or_(c.resolved_at.is_(None), c.resolved_at >= start))
        .group_by(c.channel_id).order_by(c.channel_id)
    )
    return {channel: int(count) for channel, count in session.execute(statement)}


def running_due(
    *, session: Session, workspace_id: int, after: datetime, channel_id: str | None = None,
) -> list[tuple[str, datetime]]:
    """(channel, due instant) of the targets running on unresolved tickets, not breached,
    that fall due after ``after``."""
    found = []
    for metric in Metric:
        due = metric_column(metric, "due_at")
        statement = select(TICKETS.c.channel_id, due).where(
            *in_scope(workspace_id, channel_id), unresolved_ticket(), and_(
                running(metric), due > after, metric_column(metric, "breached").is_not(True)))
        found += [(channel, at) for channel, at in session.execute(statement)]
    return found
