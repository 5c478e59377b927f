"""Reading a claimed nudge before it is sent: go ahead (`Prepared`) or drop it (`Cancel`).

Everything is read in one unit of work, right before the send: a ticket resolved, paused or
whose metric stopped since the nudge was planned cancels it, as does a more severe nudge of
the same metric that already went out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.nudge_messages import Delivery, Escalation, NudgeFacts, NudgeTicket, plan_deliveries
from bot.nudges.options import SenderOptions
from commands.clocks import clock_of, policy_of
from commands.deps import Deps
from sla.clock import MetricClock, TicketClock
from sla.targets import Audience, Metric
from storage.models import Nudge, NudgeState, Ticket, TicketStatus, TrackedChannel
from storage.repositories import nudges as outbox
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo


@dataclass(frozen=True)
class Prepared:
    """A claimed row with everything needed to send it, read in one unit of work."""

    nudge_id: int
    ticket_id: int
    facts: NudgeFacts
    ticket: NudgeTicket
    deliveries: tuple[Delivery, ...]
    already: frozenset[str]  # destinations an earlier attempt reached
    given_up: dict[str, str]  # destination -> why no attempt can reach it
    attempts: int


@dataclass(frozen=True)
class Cancel:
    """Why a claimed row must not go out, and where an earlier attempt may have sent it."""

    reason: str
    ticket: NudgeTicket
    deliveries: tuple[Delivery, ...]
    already: frozenset[str]
    attempts: int


_STOPPED: dict[str, str] = {
    TicketStatus.RESOLVED: "ticket resolved", TicketStatus.PAUSED: "ticket paused"}


def still_ours(row: Nudge | None, options: SenderOptions) -> bool:
    """The row is still being sent by this sender (no other took it over after our lease)."""
    return (row is not None and row.claimed_by == options.holder
            and row.state == NudgeState.SENDING)


def prepare_nudge(
    deps: Deps, options: SenderOptions, nudge_id: int, now: datetime
) -> Prepared | Cancel | None:
    """Read the row, its ticket and clock: what to send, why not to, or None (not ours)."""
    with deps.unit_of_work() as session:
        row = session.get(Nudge, nudge_id)
        if row is None or not still_ours(row, options):
            return None
        ticket = ticket_repo.get_ticket(session=session, ticket_id=row.ticket_id)
        channel = workspace_repo.get_channel(
            session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id
        )
        nudge_ticket = _nudge_ticket(ticket, channel)
        deliveries = tuple(plan_deliveries(
            [Audience(a) for a in row.audiences], nudge_ticket, _escalation(channel)))
        already = frozenset(row.delivered or ())

        def cancel(reason: str) -> Cancel:
            return Cancel(reason, nudge_ticket, deliveries, already, row.attempts)

        if ticket.status in _STOPPED:
            return cancel(_STOPPED[ticket.status])
        policy = policy_of(session, ticket)
        clock = clock_of(session, ticket, now, policy=policy)
        reason = _why_not(session, row, clock)
        if reason is not None:
            return cancel(reason)
        metric_clock = clock.metrics[Metric(row.metric)]
        facts = NudgeFacts(
            metric=Metric(row.metric),
            threshold=row.threshold,
            seq=row.seq,
            target=metric_clock.target,
            remaining=metric_clock.remaining,
            due_at=metric_clock.due_at,
            planned_at=row.planned_at,
            now=now,
            tz=policy.calendar.tz,
        )
        return Prepared(
            nudge_id=nudge_id,
            ticket_id=row.ticket_id,
            facts=facts,
            ticket=nudge_ticket,
            deliveries=deliveries,
            already=already,
            given_up=dict(row.given_up or {}),
            attempts=row.attempts,
        )


def _why_not(session: Session, row: Nudge, clock: TicketClock) -> str | None:
    """Why the nudge must not go out now (None: it goes)."""
    metric = Metric(row.metric)
    metric_clock: MetricClock | None = clock.metrics.get(metric)
    if clock.resolved or clock.paused:
        return "ticket resolved" if clock.resolved else "ticket paused"
    if metric_clock is None or not metric_clock.running:
        return f"{metric} no longer running"
    if metric_clock.cycle != row.cycle:
        return f"{metric} cycle {row.cycle} is over"
    if row.threshold < 1.0 and metric_clock.elapsed >= metric_clock.target:
        return "superseded by the breach"
    if any(
        (other.threshold, other.seq) > (row.threshold, row.seq)
        for other in outbox.list_nudges(session=session, ticket_id=row.ticket_id)
        if other.metric == row.metric
        and other.cycle == row.cycle
        and other.state == NudgeState.SENT
    ):
        # A retry must not arrive after a more severe nudge: people would read it last.
        return "superseded by a more severe nudge already sent"
    return None


def _nudge_ticket(ticket: Ticket, channel: TrackedChannel | None) -> NudgeTicket:
    return NudgeTicket(
        key=ticket.key,
        channel_id=ticket.channel_id,
        thread_ts=ticket.thread_ts,
        requester=ticket.requester_id,
        assignee=ticket.assignee_id,
        responders=tuple(channel.responder_user_ids) if channel else (),
        permalink=ticket.permalink,
    )


def _escalation(channel: TrackedChannel | None) -> Escalation:
    return Escalation(
        channel_ids=tuple(channel.escalation_channel_ids) if channel else (),
        manager_ids=tuple(channel.manager_user_ids) if channel else (),
    )
