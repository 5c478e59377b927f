"""Run-once job slots, and the heartbeat row /healthz writes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import JobLease, utcnow
from storage.repositories._sql import dialect_insert, insert_ignoring_duplicates, table_of


def acquire_job_slot(
    *, session: Session, name: str, slot: str, holder: str, at: datetime | None = None
) -> bool:
    """Take the run-once lease of job ``name`` for ``slot``; False if anyone already has it."""
    return insert_ignoring_duplicates(
        session,
        JobLease,
        {"name": name, "slot": slot, "holder": holder, "acquired_at": at or utcnow()},
    )


def touch_heartbeat(*, session: Session, holder: str, at: datetime) -> None:
    """Write (and, with the caller's commit, make durable) this instance's heartbeat row:
    /healthz proves the database takes writes, not just reads."""
    statement = dialect_insert(session, table_of(JobLease)).values(
        name="healthz", slot=holder, holder=holder, acquired_at=at)
    session.exec(statement.on_conflict_do_update(
        index_elements=["name", "slot"], set_={"acquired_at": at}))
