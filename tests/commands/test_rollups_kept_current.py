"""The daily rollups follow every move of a ticket made through the real commands, and the
numbers read from them stay those of the ticket scan (compliance) and of
`sla.responders.responder_rows` over the histories (responders)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from commands import lifecycle
from commands.deps import WakeHook
from sla.responders import responder_rows
from storage import repositories as repo
from storage.repositories import responder_rollups, rollups
from storage.repositories.responder_reads import responder_figures
from tests.clocks import FixedClock
from tests.commands.reporting_fixtures import TEAM, always_policy, ticket, utc, workspace
from tests.storage.rollup_history import snapshot
from tests.storage.test_responder_rollups import histories
from tests.storage.test_responder_rollups import snapshot as responder_snapshot

START = utc(2026, 11, 23, 23, 30)  # half an hour before midnight: moves cross the day


def _check(uow, ws, now):
    """The rollups kept so far equal a rebuild, compliance read from them the scan, and the
    responder figures read from them `responder_rows` over the histories."""
    with uow() as s:
        kept = snapshot(s, ws), responder_snapshot(s, ws)
    with uow() as s:
        rollups.rebuild(s.connection(), ws)
        responder_rollups.rebuild(s, ws)
    with uow() as s:
        assert (snapshot(s, ws), responder_snapshot(s, ws)) == kept
        tickets = histories(s, ws)
        for days in (1, 7):
            kwargs = dict(session=s, workspace_id=ws, start=now - timedelta(days=days), end=now,
                          now=now)
            assert repo.compliance_counts(**kwargs) == repo.scan_compliance_counts(**kwargs)
            assert responder_figures(**kwargs) == responder_rows(
                ((t, always_policy()) for _channel, t in tickets), kwargs["start"], now, now)
    return kept[0]


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
        lambda: lifecycle.assign(deps, team_id=TEAM, user_id="U0BOSS", key="SLA-2",
                                 assignee_id="U0HELPER"),
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
    with uow() as s:
        people = {r.user_id: r for r in responder_figures(
            session=s, workspace_id=ws, now=clock.now(), start=clock.now() - timedelta(days=7),
            end=clock.now() + timedelta(hours=1))}
    # The agent answered SLA-1 and resolved it twice (reopened between) and SLA-2 once; the
    # helper had SLA-2 when its resolution (P3: 24h) fell due.
    assert (people["U0AGENT"].first_responses, people["U0AGENT"].resolutions) == (1, 3)
    assert people["U0HELPER"].breaches_assigned == 1
