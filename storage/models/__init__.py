"""SQLModel tables: everything slabot must remember across restarts.

Constraints live in the database so that duplicates are impossible rather than avoided:
one ticket per Slack message, one nudge per (ticket, metric, threshold, seq), one lease per
job slot, one inbox row per Slack event, one outbox row per intended Slack write.
Instants are aware UTC (``UTCDateTime``). Import tables from here, not from the modules.
"""

from storage.models.base import stored_id, utcnow
from storage.models.digests import DigestScope, DigestSubscription
from storage.models.queues import (
    InboxItem,
    InboxState,
    JobLease,
    Nudge,
    NudgeState,
    OutboxMessage,
    OutboxState,
)
from storage.models.rollups import (
    MetricRollup,
    ResponderFact,
    ResponderRollup,
    TicketRollup,
    WorkspaceRollup,
)
from storage.models.tickets import UNRESOLVED, Ticket, TicketEvent, TicketStatus
from storage.models.workspaces import PolicyRow, ShareLink, TrackedChannel, Workspace

__all__ = [
    "UNRESOLVED",
    "DigestScope",
    "DigestSubscription",
    "InboxItem",
    "InboxState",
    "JobLease",
    "MetricRollup",
    "Nudge",
    "NudgeState",
    "OutboxMessage",
    "OutboxState",
    "PolicyRow",
    "ResponderFact",
    "ResponderRollup",
    "ShareLink",
    "Ticket",
    "TicketEvent",
    "TicketRollup",
    "TicketStatus",
    "TrackedChannel",
    "Workspace",
    "WorkspaceRollup",
    "stored_id",
    "utcnow",
]
