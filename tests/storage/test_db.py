"""The engine and the unit of work: URLs, SQLite settings, commit/rollback, UTC instants."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from storage import repositories as repo
from storage.db import make_engine, normalize_url
from storage.models import Workspace


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/lib/slabot.db", "sqlite:////var/lib/slabot.db"),
    ],
)
def test_database_url_uses_psycopg_for_postgresql(given, expected):
    assert normalize_url(given) == expected


def test_unsupported_database_is_refused_with_the_supported_forms():
    with pytest.raises(ValueError, match=r"sqlite:///path\.db or postgresql://"):
        make_engine("mysql://u@h/db")


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() > 0
    engine.dispose()


def test_unit_of_work_commits_on_success(uow):
    with uow() as session:
        repo.get_or_create_workspace(session=session, team_id="T1")
    with uow() as session:
        assert repo.get_workspace(session=session, team_id="T1") is not None


def test_unit_of_work_rolls_back_everything_on_error(uow):
    with pytest.raises(RuntimeError), uow() as session:
        repo.get_or_create_workspace(session=session, team_id="T1")
        raise RuntimeError("boom")
    with uow() as session:
        assert repo.get_workspace(session=session, team_id="T1") is None


def test_instants_come_back_aware_in_utc_whatever_zone_they_were_written_in(uow):
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 1, 5, 10, 30, 15, 250000, tzinfo=paris)
    with uow() as session:
        ws = repo.get_or_create_workspace(session=session, team_id="T1")
        ws.created_at = written
        session.add(ws)
    with uow() as session:
        read = repo.get_workspace(session=session, team_id="T1").created_at
    assert read == written
    assert read.tzinfo is UTC
    assert read.hour == 9


def test_naive_instants_are_refused(uow):
    with pytest.raises(Exception, match="naive datetime"), uow() as session:
        session.add(Workspace(team_id="T1", created_at=datetime(2026, 1, 5, 10, 0)))
        session.flush()


def test_instants_compare_in_time_order_in_sql(uow):
    with uow() as session:
        for team, hour in (("A", 9), ("B", 11)):
            ws = repo.get_or_create_workspace(session=session, team_id=team)
            ws.created_at = datetime(2026, 1, 5, hour, tzinfo=UTC)
            session.add(ws)
    cutoff = datetime(2026, 1, 5, 11, 30, tzinfo=timezone(timedelta(hours=1)))  # 10:30 UTC
    with uow() as session:
        later = session.exec(select(Workspace.team_id).where(Workspace.created_at > cutoff))
        assert list(later) == ["B"]
