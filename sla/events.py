"""A ticket's events as its SLA clock reads them: what happened, when, at which priority.

Instants are aware and kept in UTC (``as_utc``); a naive one is a ClockError naming what
it belongs to, never a silent guess of a zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sla.targets import Priority

__all__ = ["ClockError", "ClockEvent", "EventKind", "as_utc"]


class ClockError(ValueError):
    """The events cannot describe a ticket (no creation, naive instants, ...)."""


class EventKind(StrEnum):
    """Something that happened to a ticket and moves its SLA clock."""

    CREATED = "created"
    RESPONDED = "responded"
    REQUESTER_REPLIED = "requester_replied"
    PAUSED = "paused"
    RESUMED = "resumed"
    PRIORITY_CHANGED = "priority_changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"


def as_utc(at: datetime, what: str) -> datetime:
    """``at`` in UTC; a naive or missing instant is a ClockError naming ``what``."""
    if at.__class__ is datetime and at.tzinfo is UTC:  # the common case, stored instants
        return at
    if not isinstance(at, datetime):
        raise ClockError(f"{what}: expected a datetime, got {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ClockError(f"{what}: naive datetime {at.isoformat()}; give a time zone")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class ClockEvent:
    """One ticket event; ``priority`` is set on CREATED (optional) and PRIORITY_CHANGED."""

    kind: EventKind
    at: datetime
    priority: Priority | None = None

    def __post_init__(self) -> None:
        kind = self.kind
        if kind.__class__ is not EventKind:
            try:
                kind = EventKind(kind)
            except ValueError:
                raise ClockError(f"unknown clock event kind {self.kind!r}") from None
            object.__setattr__(self, "kind", kind)
        at = self.at
        if not (at.__class__ is datetime and at.tzinfo is UTC):  # stored instants already are
            object.__setattr__(self, "at", as_utc(at, f"{kind} event"))
        if self.priority is not None:
            if self.priority.__class__ is not Priority:
                object.__setattr__(self, "priority", Priority.parse(self.priority))
        elif kind is EventKind.PRIORITY_CHANGED:
            raise ClockError("a priority_changed event needs the new priority")
