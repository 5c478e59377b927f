"""`/sla status` counts tickets exactly as `/sla list` selects them, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commands.status import compliance
from storage import repositories as repo
from storage.models import Ticket
from storage.repositories.ticket_counts import count_open_tickets

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
H = timedelta(hours=1)


def _ticket(workspace_id: int, number: int, channel: str = "C1", **kw) -> Ticket:
    created = kw.pop("created_at", NOW - 2 * H)
    values = {
        "workspace_id": workspace_id, "number": number, "key": f"SLA-{number}",
        "channel_id": channel, "message_ts": f"{number}.0", "thread_ts": f"{number}.0",
        "requester_id": "UREQ", "priority": "P3", "status": "open", "created_at": created,
        "first_response_target_s": 4 * 3600, "first_response_started_at": created,
        "first_response_due_at": created + 4 * H, "first_response_at_risk_at": created + 3 * H,
        "first_response_elapsed_s": 2 * 3600,
        "resolution_target_s": 24 * 3600, "resolution_started_at": created,
        "resolution_due_at": created + 30 * H, "resolution_at_risk_at": created + 25 * H,
        "resolution_elapsed_s": 2 * 3600,
    }
    values.update(kw)
    return Ticket(**values)


def _desk(session) -> int:
    workspace_id = repo.get_or_create_workspace(session=session, team_id="T1").id
    session.add_all([
        _ticket(workspace_id, 1),  # fine
        _ticket(workspace_id, 2, first_response_at_risk_at=NOW - H),  # at risk by time
        _ticket(workspace_id, 3, first_response_due_at=NOW + 30 * timedelta(minutes=1)),  # soon
        _ticket(workspace_id, 4, first_response_due_at=NOW - H),  # breached
        _ticket(workspace_id, 5, status="paused", first_response_due_at=None,
                resolution_due_at=None, first_response_at_risk_at=None,
                resolution_at_risk_at=None, first_response_breached=True),  # breached, paused
        _ticket(workspace_id, 6, status="paused", first_response_due_at=None,
                resolution_due_at=None, first_response_at_risk_at=None,
                resolution_at_risk_at=None),  # paused, fine
        _ticket(workspace_id, 7, status="resolved", resolved_at=NOW - H,
                first_response_due_at=NOW - H),  # closed: not counted
        _ticket(workspace_id, 8, channel="C2", first_response_due_at=NOW - H),  # elsewhere
    ])
    session.flush()
    return workspace_id


def test_counts_equal_the_lengths_of_the_lists(uow):
    with uow() as session:
        workspace_id = _desk(session)
        for channel in ("C1", "C2", None):
            scope = {"workspace_id": workspace_id, "channel_id": channel}
            counts = count_open_tickets(session=session, now=NOW, **scope)
            assert counts.open == len(repo.list_open_tickets(session=session, **scope))
            assert counts.at_risk == len(
                repo.list_at_risk_tickets(session=session, now=NOW, **scope)
            )
            assert counts.breached == len(
                repo.list_breached_tickets(session=session, now=NOW, **scope)
            )


def test_channel_counts_by_hand(uow):
    with uow() as session:
        workspace_id = _desk(session)
        counts = count_open_tickets(session=session, workspace_id=workspace_id, now=NOW,
                                    channel_id="C1")
        assert (counts.open, counts.at_risk, counts.breached) == (6, 2, 2)
        everywhere = count_open_tickets(session=session, workspace_id=workspace_id, now=NOW)
        assert (everywhere.open, everywhere.breached) == (7, 3)


def test_status_of_one_channel_ignores_the_others(uow):
    with uow() as session:
        workspace_id = _desk(session)
        _, counts = compliance(session, workspace_id=workspace_id, channel_id="C2", days=7,
                               now=NOW)
        assert (counts.open, counts.at_risk, counts.breached) == (1, 0, 1)
