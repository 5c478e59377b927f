"""Daily rollups: what the tickets add up to per UTC day, so that a period's compliance is a
sum over days instead of a scan of tickets.

A ``MetricRollup`` row holds, for the metrics of one workspace, channel, priority, metric and
target, how many of their stored instants fall on one day; a ``WorkspaceRollup`` row the same
for all channels, priorities and targets of a workspace at once (what a workspace-wide total
reads: a few rows a day instead of one per channel and priority); a ``TicketRollup`` row how
many tickets were created and resolved that day. The rows are a pure function of the tickets'
stored columns (``storage.repositories.rollups`` says which counts and why), kept current in
the unit of work that changes a ticket and rebuilt from the tickets by ``slabot rollups
rebuild``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Index, LargeBinary, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key


def _blob() -> Any:
    return Field(default=b"", sa_type=LargeBinary, nullable=False)


class _MetricCounts(SQLModel):
    """The counts and blobs a metric rollup row holds (see ``MetricRollup``)."""

    stopped: int = Field(default=0, nullable=False)
    breached: int = Field(default=0, nullable=False)
    started: int = Field(default=0, nullable=False)
    late_from: int = Field(default=0, nullable=False)
    late_until: int = Field(default=0, nullable=False)
    risk_from: int = Field(default=0, nullable=False)
    risk_until: int = Field(default=0, nullable=False)
    elapsed: bytes = _blob()
    breaches: bytes = _blob()


class MetricRollup(_MetricCounts, table=True):
    """Per day: closed metrics (stopped that day) and the instants a closed metric started,
    fell due or passed a mark that day (what "open at an instant" is counted from).

    ``elapsed`` holds the elapsed microseconds of the metrics stopped that day (for medians);
    ``breaches`` one record per metric stopped that day past its target or its due instant
    (for the worst breaches). Both are little-endian int64 arrays, appended to, never
    rewritten in place: an entry taken back is appended negated (see the repository).
    """

    __tablename__ = "metric_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("workspace_id", "channel_id", "day", "priority", "metric",
                             "target_s"),
        # The workspace's days without going through every channel's key range.
        Index(None, "workspace_id", "day"),
    )

    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    day: date = Field(nullable=False)
    priority: str = Field(nullable=False)
    metric: str = Field(nullable=False)
    target_s: float = Field(nullable=False)


class WorkspaceRollup(_MetricCounts, table=True):
    """Per day and metric, ``MetricRollup`` summed over a workspace's channels, priorities
    and targets."""

    __tablename__ = "workspace_rollups"
    __table_args__ = (PrimaryKeyConstraint("workspace_id", "day", "metric"),)

    workspace_id: int = foreign_key("workspaces.id")
    day: date = Field(nullable=False)
    metric: str = Field(nullable=False)


class TicketRollup(SQLModel, table=True):
    """Per day: tickets created, and tickets whose resolved instant falls on it."""

    __tablename__ = "ticket_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("workspace_id", "channel_id", "day"),
        Index(None, "workspace_id", "day"),
    )

    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    day: date = Field(nullable=False)
    created: int = Field(default=0, nullable=False)
    resolved: int = Field(default=0, nullable=False)
