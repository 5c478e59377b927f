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

``ResponderFact`` rows are each ticket's current credits and charges to people
(``sla.responders.contributions``), replaced whenever the ticket changes; ``ResponderRollup``
rows their sums per channel, UTC day and person, kept by the same increments.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import foreign_key, instant


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


class ResponderFact(SQLModel, table=True):
    """One credit or charge of a ticket to a person as its history stands: a first response
    (with its business elapsed microseconds), a resolution or a breach while assigned, at
    its instant (a breach still ahead too: readers count what is not after their ``now``).
    ``seq`` numbers a ticket's rows."""

    __tablename__ = "responder_facts"
    __table_args__ = (
        PrimaryKeyConstraint("ticket_id", "seq"),
        # The parts of days at a period's ends, for a workspace.
        Index(None, "workspace_id", "at"),
    )

    ticket_id: int = foreign_key("tickets.id")
    seq: int = Field(nullable=False)
    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    kind: str = Field(nullable=False)
    at: datetime = instant(nullable=False)
    user_id: str = Field(nullable=False)
    elapsed_us: int = Field(default=0, sa_type=BigInteger, nullable=False)


class ResponderRollup(SQLModel, table=True):
    """Per channel, UTC day and person: the ``ResponderFact`` rows of that day summed, the
    first responses' elapsed microseconds in ``elapsed`` (little-endian int64, appended to,
    an entry taken back appended as ``-value - 1``, as ``MetricRollup.elapsed``)."""

    __tablename__ = "responder_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("workspace_id", "channel_id", "day", "user_id"),
        Index(None, "workspace_id", "day"),
    )

    workspace_id: int = foreign_key("workspaces.id")
    channel_id: str = Field(nullable=False)
    day: date = Field(nullable=False)
    user_id: str = Field(nullable=False)
    first_responses: int = Field(default=0, nullable=False)
    resolutions: int = Field(default=0, nullable=False)
    breaches: int = Field(default=0, nullable=False)
    elapsed: bytes = _blob()
