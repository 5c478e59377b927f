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

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from sla.escalation import NudgeDue, SentNudge
from sla.targets import Metric
from storage.mappers import sent_nudges
from storage.models import InboxItem, Nudge, NudgeState, OutboxMessage, Ticket, utcnow
from storage.repositories import _sql

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
    ids = _sql.claim_rows(session, Ticket, ready=col(Ticket.next_due_at).is_not(None),
                          due="next_due_at", now=now, holder=holder, limit=limit, lease=lease)
    return _sql.load_claimed(session, Ticket, ids, "next_due_at", "id")


def release_ticket(
    *, session: Session, ticket_id: int, holder: str, next_due_at: datetime | None
) -> bool:
    """End a ticket claim and set when to look at it next; False if the lease was lost."""
    result = session.exec(
        update(Ticket)
        .where(col(Ticket.id) == ticket_id, col(Ticket.claimed_by) == holder)
        .values(claimed_by=None, claimed_until=None, next_due_at=next_due_at)
    )
    return result.rowcount == 1


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
    inserted = _sql.insert_ignoring_duplicates(
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
        select(Nudge).where(
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
            select(Nudge)
            .where(Nudge.ticket_id == ticket_id)
            .order_by(col(Nudge.planned_at), col(Nudge.id))
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
    ids = _sql.claim_rows(
        session, Nudge, now=now, holder=holder, limit=limit, lease=lease,
        ready=col(Nudge.state).in_((NudgeState.PENDING.value, NudgeState.SENDING.value)),
        values={**_sql.counted_attempt(Nudge), "state": NudgeState.SENDING.value,
                "updated_at": utcnow()},
    )
    return _sql.load_claimed(session, Nudge, ids, "next_attempt_at", "id")


def mark_nudge_sent(
    *,
    session: Session,
    nudge_id: int,
    at: datetime,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
    error: str | None = None,
) -> Nudge:
    """Record a delivered nudge (with the Slack message it became, and ``error``: why some
    destinations did not get it)."""
    nudge = _get(session, nudge_id)
    nudge.sent_at = at
    nudge.slack_channel = slack_channel
    nudge.slack_ts = slack_ts
    return _release(session, nudge, NudgeState.SENT, error)


def mark_nudge_failed(
    *, session: Session, nudge_id: int, error: str, retry_at: datetime | None = None
) -> Nudge:
    """Record a failed attempt: back to pending until ``retry_at``, or failed for good."""
    nudge = _get(session, nudge_id)
    if retry_at is None:
        return _release(session, nudge, NudgeState.FAILED, error)
    nudge.next_attempt_at = retry_at
    return _release(session, nudge, NudgeState.PENDING, error)


def mark_nudge_cancelled(*, session: Session, nudge_id: int, reason: str) -> Nudge:
    """Drop a claimed nudge unsent (ticket resolved or paused, metric stopped)."""
    return _release(session, _get(session, nudge_id), NudgeState.CANCELLED, reason)


def cancel_pending_nudges(
    *, session: Session, ticket_id: int, metrics: Iterable[Metric | str] | None = None
) -> int:
    """Cancel a ticket's unsent nudges (all, or of ``metrics``), e.g. when it is resolved."""
    statement = (
        update(Nudge)
        .where(col(Nudge.ticket_id) == ticket_id, col(Nudge.state) == NudgeState.PENDING.value)
        .values(state=NudgeState.CANCELLED.value, updated_at=utcnow())
    )
    if metrics is not None:
        statement = statement.where(col(Nudge.metric).in_([Metric(m).value for m in metrics]))
    return session.exec(statement).rowcount


def _get(session: Session, nudge_id: int) -> Nudge:
    return _sql.get_row(session, Nudge, nudge_id, "nudge")


def _release(
    session: Session, nudge: Nudge, state: NudgeState, error: str | None = None
) -> Nudge:
    """End the nudge's claim in ``state`` (with the error that ended it, if any)."""
    nudge.state = state.value
    if error is not None:
        nudge.last_error = error[:ERROR_LENGTH]
    nudge.claimed_by = None
    nudge.claimed_until = None
    return _sql.save_changed(session, nudge)


def record_nudge_delivery(
    *, session: Session, nudge_id: int, destination: str, holder: str | None = None,
    given_up: str | None = None,
) -> bool:
    """Remember that one destination of a nudge got it, or with ``given_up`` (Slack's reason)
    that none can reach it: either way no retry tries it again.

    With ``holder``: False (nothing written) when that sender no longer holds the claim.
    """
    nudge = _get(session, nudge_id)
    if holder is not None and (
        nudge.claimed_by != holder or nudge.state != NudgeState.SENDING.value
    ):
        return False
    if given_up is not None:
        nudge.given_up = {**(nudge.given_up or {}), destination: given_up}
    elif destination not in (nudge.delivered or []):
        nudge.delivered = [*(nudge.delivered or []), destination]
    _sql.save_changed(session, nudge)
    return True


def expire_claims_of(*, session: Session, holder: str, now: datetime) -> int:
    """End every lease ``holder`` still has (a restarted process resumes its own work at once):
    tickets to plan, nudges, inbox rows and outbox writes."""
    count = 0
    for model in (Ticket, Nudge, InboxItem, OutboxMessage):
        columns = _sql.table_of(model).c
        count += session.exec(
            update(_sql.table_of(model))
            .where(columns.claimed_by == holder, columns.claimed_until > now)
            .values(claimed_until=now)
        ).rowcount
    session.expire_all()
    return count


def outbox_backlog(*, session: Session) -> int:
    """How many nudges wait to be sent (pending or being sent)."""
    states = (NudgeState.PENDING.value, NudgeState.SENDING.value)
    return session.exec(select(func.count()).where(col(Nudge.state).in_(states))).one()


def next_ticket_due_at(*, session: Session) -> datetime | None:
    """The earliest instant a ticket needs planning (the scheduler's planner wakes then)."""
    earliest: datetime | None = session.exec(select(func.min(Ticket.next_due_at))).one()
    return earliest


def next_outbox_attempt_at(*, session: Session) -> datetime | None:
    """The earliest instant an outbox row can be sent: a due retry or a lease running out."""
    pending = _sql.earliest_attempt(session, Nudge, state=NudgeState.PENDING.value)
    stuck: datetime | None = session.exec(
        select(func.min(Nudge.claimed_until)).where(Nudge.state == NudgeState.SENDING.value)
    ).one()
    return min((c for c in (pending, stuck) if c is not None), default=None)
