"""`slabot rollups rebuild` recounts the daily rollups from the tickets, e.g. after an import
that wrote tickets around the bot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.cli import main
from sla.events import EventKind
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import (
    MetricRollup,
    ResponderFact,
    ResponderRollup,
    TicketRollup,
    WorkspaceRollup,
)
from storage.repositories.responder_reads import responder_figures
from tests.commands.reporting_fixtures import TEAM, ticket, utc, workspace
from tests.storage.rollup_history import snapshot

NOW = utc(2026, 12, 2, 12)


def _tickets(engine) -> int:
    with unit_of_work(engine) as s:
        ws = workspace(s)
        for hours in range(1, 30, 3):
            ticket(s, ws, channel="C1", priority="P2", created=NOW - timedelta(hours=hours),
                   events=((EventKind.RESPONDED, NOW - timedelta(hours=hours - 1)),
                           (EventKind.RESOLVED, NOW - timedelta(hours=hours - 2))))
    return ws


def _people(engine, ws):
    with unit_of_work(engine) as s:
        return responder_figures(session=s, workspace_id=ws, start=NOW - timedelta(days=2),
                                 end=NOW, now=NOW)


def _figures(engine, ws):
    with unit_of_work(engine) as s:
        return repo.compliance_counts(session=s, workspace_id=ws, start=NOW - timedelta(days=2),
                                      end=NOW, now=NOW)


def test_rebuild_recounts_what_was_written_around_the_bot(db_url, engine, capsys):
    ws = _tickets(engine)
    with unit_of_work(engine) as s:
        kept = snapshot(s, ws)
    expected, people = _figures(engine, ws), _people(engine, ws)
    with unit_of_work(engine) as s:  # as after an import or a restore of tickets alone
        for table in (MetricRollup, WorkspaceRollup, TicketRollup, ResponderFact,
                      ResponderRollup):
            s.exec(delete(table))
    assert _figures(engine, ws) != expected and _people(engine, ws) == []

    assert main(["rollups", "rebuild", "--database-url", db_url]) == 0
    assert f"{TEAM}: rollups of 10 tickets rebuilt in" in capsys.readouterr().out
    with unit_of_work(engine) as s:
        assert snapshot(s, ws) == kept
    assert _figures(engine, ws) == expected
    assert expected.overall.met
    assert _people(engine, ws) == people and people[0].user_id == "U0AGENT"


def test_rebuild_of_one_team(db_url, engine, capsys):
    _tickets(engine)
    assert main(["rollups", "rebuild", "--team", "T0NOBODY", "--database-url", db_url]) == 2
    assert "no workspace with team id T0NOBODY" in capsys.readouterr().err
    assert main(["rollups", "rebuild", "--team", TEAM, "--database-url", db_url]) == 0
    assert "rollups of 10 tickets" in capsys.readouterr().out


def test_rebuild_of_a_database_without_tables_says_to_migrate(empty_db_url, capsys):
    assert main(["rollups", "rebuild", "--database-url", empty_db_url]) == 2
    assert "run `slabot migrate` first" in capsys.readouterr().err
