"""A stored ticket's clock now: its history and policy read from storage, timed by `sla`.

Every command that shows or moves a ticket asks here, so "the clock of this ticket" is
computed one way everywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from sla.clock import TicketClock, compute_clock
from sla.policy import Policy
from storage.models import Ticket, stored_id
from storage.repositories import ticket_events as event_repo
from storage.repositories import workspaces as workspace_repo


def policy_of(session: Session, ticket: Ticket) -> Policy:
    """The policy in force for the ticket's channel."""
    return workspace_repo.get_policy(
        session=session, workspace_id=ticket.workspace_id, channel_id=ticket.channel_id)


class ChannelPolicies:
    """The policy in force per channel of one workspace, all read at the first question (a
    page asks for many channels, several times)."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session, self._workspace_id = session, workspace_id
        self._found: tuple[dict[str, Policy], Policy] | None = None

    def __call__(self, channel_id: str) -> Policy:
        own, default = self._read()
        return own.get(channel_id, default)

    def distinct(self) -> list[Policy]:
        """Every policy some channel is under (each stored policy once)."""
        own, default = self._read()
        return list({id(policy): policy for policy in (default, *own.values())}.values())

    def _read(self) -> tuple[dict[str, Policy], Policy]:
        if self._found is None:
            self._found = workspace_repo.channel_policies(session=self._session,
                                                          workspace_id=self._workspace_id)
        return self._found


def clock_of(session: Session, ticket: Ticket, now: datetime, *,
             policy: Policy | None = None) -> TicketClock:
    """The ticket's clock at `now` from its stored history, under `policy` (by default the
    one in force for its channel; callers reading many tickets pass the one they hold)."""
    events = event_repo.load_clock_events(session=session, ticket_id=stored_id(ticket))
    return compute_clock(events, policy or policy_of(session, ticket), now)
