"""Ticket moves on stored tickets: found by any form of their key, named as the workspace
writes its keys, refused with the rule's reason."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from commands import lifecycle
from commands.deps import WakeHook
from commands.errors import NotFound, PermissionDenied
from sla.targets import Priority
from sla.transitions import InvalidTransition
from storage.models import TicketStatus
from storage.repositories.workspaces import get_or_create_workspace
from tests.clocks import FixedClock
from tests.commands.reporting_fixtures import TEAM, ticket, utc, workspace

NOW = utc(2026, 11, 23, 10)


@pytest.fixture
def deps(uow):
    with uow() as session:
        ticket(session, workspace(session), channel="C1", priority="P3", created=NOW)
    return SimpleNamespace(clock=FixedClock(NOW), unit_of_work=uow, wake_outbox=WakeHook(),
                           wake_scheduler=WakeHook())


@pytest.mark.parametrize("key", ["SLA-1", "sla-1", "#1", "1"])
def test_a_ticket_is_found_by_any_form_of_its_key(deps, key):
    assert lifecycle.get_ticket(deps, team_id=TEAM, key=key).ticket.key == "SLA-1"


@pytest.mark.parametrize("key", ["SLA-9", "#9", "9"])
def test_a_missing_ticket_is_named_with_the_workspace_prefix(deps, uow, key):
    with uow() as session:
        get_or_create_workspace(session=session, team_id=TEAM).ticket_prefix = "OPS"
    with pytest.raises(NotFound, match="There is no ticket OPS-9 in this workspace"):
        lifecycle.pause(deps, team_id=TEAM, user_id="U0AGENT", key=key)


def test_pause_then_resolve_stores_each_move(deps):
    paused = lifecycle.pause(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1")
    assert paused.clock.paused and paused.ticket.status == TicketStatus.PAUSED.value
    resolved = lifecycle.resolve(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1")
    assert resolved.clock.resolved and resolved.ticket.status == TicketStatus.RESOLVED.value
    again = lifecycle.resolve(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1", quiet=True)
    assert not again.changed


def test_a_refused_move_changes_nothing(deps):
    with pytest.raises(InvalidTransition, match="SLA-1 is not paused"):
        lifecycle.resume(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1")
    assert not lifecycle.get_ticket(deps, team_id=TEAM, key="SLA-1").clock.paused


def test_the_requester_lowering_their_priority_is_a_permission_refusal(deps):
    with pytest.raises(PermissionDenied, match="only the team can lower it"):
        lifecycle.set_priority(deps, team_id=TEAM, user_id="U0REQUESTER", priority="P4",
                               key="SLA-1")
    raised = lifecycle.set_priority(deps, team_id=TEAM, user_id="U0REQUESTER", priority="P1",
                                    key="SLA-1")
    assert raised.clock.priority == Priority.P1


def test_a_team_reply_in_the_thread_is_the_first_response_and_assigns_the_responder(deps):
    result = lifecycle.record_response(deps, team_id=TEAM, channel_id="C1",
                                       thread_ts=f"{NOW.timestamp():.6f}", user_id="U0AGENT")
    assert result is not None and result.changed
    assert result.ticket.assignee_id == "U0AGENT"
    assert result.ticket.first_response_at == NOW
