"""The scheduler's side: claiming due tickets and the nudge outbox.

Claims are leases (``claimed_by`` + ``claimed_until``): a claimed row is invisible to other
claimers until the lease runs out, so a crashed process only delays work, never loses it.
Each claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`` statement: on
PostgreSQL the inner select uses ``FOR UPDATE SKIP LOCKED`` so concurrent claimers take
different rows without waiting; on SQLite the unit of work already holds the single write
lock (``BEGIN IMMEDIATE``), so claimers simply take turns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlmodel import Session
from sqlmodel import select as model_select

from sla.escalation import NudgeDue, SentNudge
from sla.targets import Metric
from storage.errors import NotFound
from storage.mappers import sent_nudges
from storage.models import InboxItem, Nudge, NudgeState, OutboxMessage, Ticket, utcnow
from storage.repositories._sql import dialect_name, insert_ignoring_duplicates

DEFAULT_LEASE = timedelta(minutes=2)
ERROR_LENGTH = 500


def claim_due_nudges(
    *,
    session: Session,
    now: datetime,
    holder: str,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Ticket]:
    """Claim up to ``limit`` tickets whose ``next_due_at`` has come, for ``lease``.

    The scheduler plans each claimed ticket (``sla.escalation.plan_nudges``), adds the due
    nudges to the outbox and calls ``release_ticket`` with the plan's next wake-up. Safe
    when several processes call it at once: each ticket goes to exactly one of them.
    """
    candidates = (
        select(Ticket.id)
        .where(
            Ticket.next_due_at.is_not(None),
            Ticket.next_due_at <= now,
            or_(Ticket.claimed_until.is_(None), Ticket.claimed_until <= now),
        )
        .order_by(Ticket.next_due_at, Ticket.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(Ticket)
        .where(Ticket.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=holder, claimed_until=now + lease)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(session.execute(statement).scalars())
    if not ids:
        return []
    tickets = session.exec(
        model_select(Ticket)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.next_due_at, Ticket.id)
        .execution_options(populate_existing=True)
    )
    return list(tickets)


def release_ticket(
    *, session: Session, ticket_id: int, holder: str, next_due_at: datetime | None
) -> bool:
    """End a ticket claim and set when to look at it next; False if the lease was lost."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.claimed_by == holder)
        .values(claimed_by=None, claimed_until=None, next_due_at=next_due_at)
    )
    return result.rowcount == 1


def set_next_due_at(*, session: Session, ticket_id: int, next_due_at: datetime | None) -> None:
    """Move a ticket's next scheduler look (e.g. to run the planner at once)."""
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(next_due_at=next_due_at)
    )


def add_nudge(
    *,
    session: Session,
    ticket_id: int,
    nudge: NudgeDue,
    state: NudgeState = NudgeState.PENDING,
) -> Nudge | None:
    """Put a planned nudge in the outbox; None when that (ticket, metric, cycle, threshold,
    seq) is already there, so planning twice never sends twice.

    Use ``state=NudgeState.SKIPPED`` for ``NudgePlan.skipped`` entries: recorded, never sent.
    """
    now = utcnow()
    inserted = insert_ignoring_duplicates(
        session,
        Nudge,
        {
            "ticket_id": ticket_id,
            "metric": Metric(nudge.metric).value,
            "cycle": nudge.cycle,
            "threshold": float(nudge.threshold),
            "seq": nudge.seq,
            "planned_at": nudge.planned_at,
            "next_attempt_at": nudge.planned_at,
            "state": NudgeState(state).value,
            "late": nudge.late,
            "audiences": sorted(str(a) for a in nudge.audiences),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        return None
    return session.exec(
        model_select(Nudge).where(
            Nudge.ticket_id == ticket_id,
            Nudge.metric == Metric(nudge.metric).value,
            Nudge.cycle == nudge.cycle,
            Nudge.threshold == float(nudge.threshold),
            Nudge.seq == nudge.seq,
        )
    ).one()


def list_nudges(*, session: Session, ticket_id: int) -> list[Nudge]:
    """Every outbox row of a ticket, in planned order."""
    return list(
        session.exec(
            model_select(Nudge)
            .where(Nudge.ticket_id == ticket_id)
            .order_by(Nudge.planned_at, Nudge.id)
        )
    )


def load_sent_nudges(*, session: Session, ticket_id: int) -> list[SentNudge]:
    """The ticket's nudges in any state, as ``sla.escalation.SentNudge`` for ``plan_nudges``."""
    return sent_nudges(list_nudges(session=session, ticket_id=ticket_id))


def claim_pending_nudges(
    *,
    session: Session,
    now: datetime,
    holder: str,
    limit: int = 50,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Nudge]:
    """Claim outbox rows ready to send: pending and due, or stuck in sending past their lease.

    Each claim counts an attempt. Safe with several processes, like ``claim_due_nudges``.
    """
    candidates = (
        select(Nudge.id)
        .where(
            or_(
                (Nudge.state == NudgeState.PENDING.value) & (Nudge.next_attempt_at <= now),
                (Nudge.state == NudgeState.SENDING.value) & (Nudge.claimed_until <= now),
            )
        )
        .order_by(Nudge.next_attempt_at, Nudge.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(
        session.execute(
            update(Nudge)
            .where(Nudge.id.in_(candidates.scalar_subquery()))
            .values(
                state=NudgeState.SENDING.value,
                claimed_by=holder,
                claimed_until=now + lease,
                attempts=Nudge.attempts + 1,
                updated_at=utcnow(),
            )
            .returning(Nudge.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if not ids:
        return []
    return list(
        session.exec(
            model_select(Nudge)
            .where(Nudge.id.in_(ids))
            .order_by(Nudge.next_attempt_at, Nudge.id)
            .execution_options(populate_existing=True)
        )
    )


def mark_nudge_sent(
    *,
    session: Session,
    nudge_id: int,
    at: datetime,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
) -> Nudge:
    """Record a delivered nudge (with the Slack message it became)."""
    nudge = _get(session, nudge_id)
    nudge.state = NudgeState.SENT.value
    nudge.sent_at = at
    nudge.slack_channel = slack_channel
    nudge.slack_ts = slack_ts
    nudge.claimed_by = None
    nudge.claimed_until = None
    return _save(session, nudge)


def mark_nudge_failed(
    *, session: Session, nudge_id: int, error: str, retry_at: datetime | None = None
) -> Nudge:
    """Record a failed attempt: back to pending until ``retry_at``, or failed for good."""
    nudge = _get(session, nudge_id)
    nudge.last_error = error[:ERROR_LENGTH]
    nudge.claimed_by = None
    nudge.claimed_until = None
    if retry_at is None:
        nudge.state = NudgeState.FAILED.value
    else:
        nudge.state = NudgeState.PENDING.value
        nudge.next_attempt_at = retry_at
    return _save(session, nudge)


def cancel_pending_nudges(
    *, session: Session, ticket_id: int, metrics: Iterable[Metric | str] | None = None
) -> int:
    """Cancel a ticket's unsent nudges (all, or of ``metrics``), e.g. when it is resolved."""
    statement = (
        update(Nudge)
        .where(Nudge.ticket_id == ticket_id, Nudge.state == NudgeState.PENDING.value)
        .values(state=NudgeState.CANCELLED.value, updated_at=utcnow())
    )
    if metrics is not None:
        statement = statement.where(Nudge.metric.in_([Metric(m).value for m in metrics]))
    return session.execute(statement).rowcount


def _get(session: Session, nudge_id: int) -> Nudge:
    nudge = session.get(Nudge, nudge_id)
    if nudge is None:
        raise NotFound(f"no nudge with id {nudge_id}")
    return nudge


def _save(session: Session, nudge: Nudge) -> Nudge:
    nudge.updated_at = utcnow()
    session.add(nudge)
    session.flush()
    return nudge


def record_nudge_delivery(
    *, session: Session, nudge_id: int, destination: str, holder: str | None = None
) -> bool:
    """Remember that one destination of a nudge got it (so no retry repeats it).

    With ``holder``: False (nothing written) when that sender no longer holds the claim.
    """
    nudge = _get(session, nudge_id)
    if holder is not None and (
        nudge.claimed_by != holder or nudge.state != NudgeState.SENDING.value
    ):
        return False
    done = list(nudge.delivered or [])
    if destination not in done:
        nudge.delivered = [*done, destination]
    _save(session, nudge)
    return True


def mark_nudge_cancelled(*, session: Session, nudge_id: int, reason: str) -> Nudge:
    """Drop a claimed nudge unsent (ticket resolved or paused, metric stopped)."""
    nudge = _get(session, nudge_id)
    nudge.state = NudgeState.CANCELLED.value
    nudge.last_error = reason[:ERROR_LENGTH]
    nudge.claimed_by = None
    nudge.claimed_until = None
    return _save(session, nudge)


def expire_claims_of(*, session: Session, holder: str, now: datetime) -> int:
    """End every lease ``holder`` still has (a restarted process resumes its own work at once):
    tickets to plan, nudges, inbox rows and outbox writes."""
    count = 0
    for model in (Ticket, Nudge, InboxItem, OutboxMessage):
        count += session.execute(
            update(model)
            .where(model.claimed_by == holder, model.claimed_until > now)
            .values(claimed_until=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    session.expire_all()
    return count


def outbox_backlog(*, session: Session) -> int:
    """How many nudges wait to be sent (pending or being sent)."""
    states = (NudgeState.PENDING.value, NudgeState.SENDING.value)
    return session.execute(
        select(func.count()).select_from(Nudge).where(Nudge.state.in_(states))
    ).scalar_one()


def next_scheduler_instant(*, session: Session) -> datetime | None:
    """The earliest instant the scheduler has work: a ticket's next look, a retry, a lease end."""
    candidates = [
        session.execute(select(func.min(Ticket.next_due_at))).scalar_one(),
        session.execute(
            select(func.min(Nudge.next_attempt_at)).where(
                Nudge.state == NudgeState.PENDING.value
            )
        ).scalar_one(),
        session.execute(
            select(func.min(Nudge.claimed_until)).where(Nudge.state == NudgeState.SENDING.value)
        ).scalar_one(),
    ]
    instants = [c for c in candidates if c is not None]
    return min(instants, default=None)


def next_ticket_due_at(*, session: Session) -> datetime | None:
    """The earliest instant a ticket needs planning (the scheduler's planner wakes then)."""
    return session.execute(select(func.min(Ticket.next_due_at))).scalar_one()


def next_outbox_attempt_at(*, session: Session) -> datetime | None:
    """The earliest instant an outbox row can be sent: a due retry or a lease running out."""
    pending = session.execute(
        select(func.min(Nudge.next_attempt_at)).where(Nudge.state == NudgeState.PENDING.value)
    ).scalar_one()
    stuck = session.execute(
        select(func.min(Nudge.claimed_until)).where(Nudge.state == NudgeState.SENDING.value)
    ).scalar_one()
    return min((c for c in (pending, stuck) if c is not None), default=None)
