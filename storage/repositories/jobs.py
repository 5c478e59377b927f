"""Exactly-once bookkeeping: processed Slack event ids and run-once job slots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session

from storage.models import JobLease, ProcessedEvent, utcnow
from storage.repositories._sql import insert_ignoring_duplicates, insert_many_ignoring_duplicates


def record_event_id(*, session: Session, event_id: str, at: datetime | None = None) -> bool:
    """Remember a Slack event id; False when it was already seen (a retry to ignore).

    The primary key decides, so two deliveries racing on different processes are settled
    by the database; nothing else is written either way.
    """
    if not event_id:
        raise ValueError("a Slack event id is required to deduplicate events")
    return insert_ignoring_duplicates(
        session, ProcessedEvent, {"event_id": event_id, "received_at": at or utcnow()}
    )


def record_event_ids(
    *, session: Session, event_ids: list[str], at: datetime | None = None
) -> set[str]:
    """``record_event_id`` for many ids in one statement; returns the ids seen for the first
    time (each of them once, also when the list holds it twice)."""
    if not all(event_ids):
        raise ValueError("a Slack event id is required to deduplicate events")
    at = at or utcnow()
    unique = list(dict.fromkeys(event_ids))
    return insert_many_ignoring_duplicates(
        session, ProcessedEvent, [{"event_id": e, "received_at": at} for e in unique]
    )


def forget_event_ids_before(*, session: Session, before: datetime) -> int:
    """Drop event ids older than ``before`` (Slack retries within minutes); returns how many."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
    return result.rowcount


def acquire_job_slot(
    *, session: Session, name: str, slot: str, holder: str, at: datetime | None = None
) -> bool:
    """Take the run-once lease of job ``name`` for ``slot``; False if anyone already has it."""
    return insert_ignoring_duplicates(
        session,
        JobLease,
        {"name": name, "slot": slot, "holder": holder, "acquired_at": at or utcnow()},
    )
