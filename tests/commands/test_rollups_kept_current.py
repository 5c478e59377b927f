"""The daily rollups follow every move of a ticket made through the real commands, and the
numbers read from them stay those of the ticket scan."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from commands import lifecycle
from commands.deps import WakeHook
from storage import repositories as repo
from storage.repositories import rollups
from tests.clocks import FixedClock
from tests.commands.reporting_fixtures import TEAM, ticket, utc, workspace
from tests.storage.rollup_history import snapshot

START = utc(2026, 11, 23, 23, 30)  # half an hour before midnight: moves cross the day


def _check(uow, ws, now):
    """The rollups kept so far equal a rebuild, and compliance read from them the scan."""
    with uow() as s:
        kept = snapshot(s, ws)
    with uow() as s:
        rollups.rebuild(s.connection(), ws)
    with uow() as s:
        assert snapshot(s, ws) == kept
        for days in (1, 7):
            kwargs = dict(session=s, workspace_id=ws, start=now - timedelta(days=days), end=now,
                          now=now)
            assert repo.compliance_counts(**kwargs) == repo.scan_compliance_counts(**kwargs)
    return kept


def test_rollups_follow_every_move_of_a_ticket(uow):
    with uow() as s:
        ws = workspace(s)
        ticket(s, ws, channel="C1", priority="P3", created=START)
        ticket(s, ws, channel="C1", priority="P3", created=START + timedelta(minutes=5))
    clock = FixedClock(START)
    deps = SimpleNamespace(clock=clock, unit_of_work=uow, wake_outbox=WakeHook(),
                           wake_scheduler=WakeHook())
    moves = [
        lambda: lifecycle.record_response(deps, team_id=TEAM, channel_id="C1",
                                          thread_ts=f"{START.timestamp():.6f}",
                                          user_id="U0AGENT"),
        lambda: lifecycle.pause(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1"),
        lambda: lifecycle.resume(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1"),
        lambda: lifecycle.set_priority(deps, team_id=TEAM, user_id="U0AGENT", priority="P1",
                                       key="SLA-1"),
        lambda: lifecycle.resolve(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1"),
        lambda: lifecycle.resolve(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-2"),
        lambda: lifecycle.reopen(deps, team_id=TEAM, user_id="U0REQUESTER", key="SLA-1"),
        lambda: lifecycle.set_priority(deps, team_id=TEAM, user_id="U0AGENT", priority="P4",
                                       key="SLA-1"),
        lambda: lifecycle.resolve(deps, team_id=TEAM, user_id="U0AGENT", key="SLA-1"),
    ]
    seen = set()
    for move in moves:
        clock.advance(timedelta(hours=7))
        move()
        kept = _check(uow, ws, clock.now())
        seen |= {key[2] for key in kept if key[0] == "metric_rollups"}
    # Stops landed on several days, and the last resolution is the one counted.
    assert len(seen) >= 2
    with uow() as s:
        week = repo.compliance_counts(session=s, workspace_id=ws, now=clock.now(),
                                      start=clock.now() - timedelta(days=7), end=clock.now())
    assert week.overall.met + week.overall.breached == 4  # two first responses, two resolutions
