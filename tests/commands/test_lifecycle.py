"""Ticket moves on stored tickets: found by any form of their key, named as the workspace
writes its keys, refused with the rule's reason."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlmodel import select

from commands import lifecycle
from commands.deps import WakeHook
from commands.errors import NotFound, PermissionDenied
from sla.targets import Priority
from sla.transitions import InvalidTransition
from storage.models import OutboxMessage, TicketStatus
from storage.repositories.outbox import CARD_UPDATE, POST
from storage.repositories.ticket_events import list_events
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


def test_a_crafted_key_is_quoted_back_escaped(deps):
    """A button's value is ours, but whatever comes back in a NotFound is shown escaped."""
    from commands.errors import friendly_message
    from commands.tickets import ticket_pressed

    for call in (lambda: lifecycle.pause(deps, team_id=TEAM, user_id="U0AGENT",
                                         key="<!channel> <https://evil|x>"),
                 lambda: ticket_pressed(deps, team_id=TEAM, key="<!here>", pressed_in="C1")):
        with pytest.raises(NotFound) as caught:
            call()
        shown, _ = friendly_message(caught.value)
        assert "<!" not in shown and "<http" not in shown and "&lt;" in shown


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


def outbox_writes(uow) -> list[OutboxMessage]:
    with uow() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_assigning_records_the_entry_the_assignee_the_redraw_and_the_thread_note(deps, uow):
    result = lifecycle.assign(deps, team_id=TEAM, user_id="U0LEAD", key="SLA-1",
                              assignee_id="U0ANN")
    assert result.changed and result.ticket.assignee_id == "U0ANN"
    with uow() as session:
        [*_, entry] = list_events(session=session, ticket_id=result.ticket.id)
    assert (entry.kind, entry.actor_id, entry.note, entry.at) == ("assigned", "U0LEAD",
                                                                  "U0ANN", NOW)
    card, note = outbox_writes(uow)[-2:]
    assert card.kind == CARD_UPDATE
    assert (note.kind, note.thread_ts, note.text) == (POST, result.ticket.thread_ts,
                                                      "Assigned to <@U0ANN> by <@U0LEAD>")


def test_unassigning_leaves_nobody_and_says_who_had_it(deps, uow):
    lifecycle.assign(deps, team_id=TEAM, user_id="U0ANN", key="SLA-1", assignee_id="U0ANN")
    result = lifecycle.assign(deps, team_id=TEAM, user_id="U0LEAD", key="SLA-1",
                              assignee_id=None)
    assert result.changed and result.ticket.assignee_id is None
    assert [w.text for w in outbox_writes(uow) if w.kind == POST] == [
        "Taken by <@U0ANN>", "Unassigned by <@U0LEAD> (was <@U0ANN>)",
    ]


def test_assigning_to_whoever_has_it_changes_nothing(deps, uow):
    lifecycle.assign(deps, team_id=TEAM, user_id="U0ANN", key="SLA-1", assignee_id="U0ANN")
    before = [w.id for w in outbox_writes(uow)]
    again = lifecycle.assign(deps, team_id=TEAM, user_id="U0LEAD", key="SLA-1",
                             assignee_id="U0ANN")
    assert not again.changed
    assert [w.id for w in outbox_writes(uow)] == before
    with pytest.raises(NotFound, match="There is no ticket SLA-7"):
        lifecycle.assign(deps, team_id=TEAM, user_id="U0ANN", key="SLA-7", assignee_id=None)
