"""Alembic migrations: the round trip on both engines, and models and migrations agree."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

import storage.models  # noqa: F401
from storage import migrate
from storage.columns import UTCDateTime
from storage.db import make_engine, unit_of_work
from storage.models import TrackedChannel, Workspace

TABLES = {
    "workspaces", "policies", "tracked_channels", "tickets", "ticket_events", "nudges",
    "inbox", "outbox", "digest_subscriptions", "job_leases", "share_links", "metric_rollups",
    "workspace_rollups", "ticket_rollups", "responder_facts", "responder_rollups",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again(empty_db_url):
    migrate.upgrade(empty_db_url)
    assert _tables(empty_db_url) == TABLES
    assert migrate.current_revision(empty_db_url) == "0009"

    migrate.downgrade(empty_db_url, "base")
    assert _tables(empty_db_url) == set()
    assert migrate.current_revision(empty_db_url) is None

    migrate.upgrade(empty_db_url)
    assert _tables(empty_db_url) == TABLES


def test_upgrade_twice_is_a_no_op(db_url):
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == "0009"


def test_models_and_migrations_agree(empty_db_url):
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_0002_starts_tracked_channels_at_their_last_change(empty_db_url):
    """Channels tracked before 0002 get their last change as the start of tracking."""
    migrate.upgrade(empty_db_url, "0001")
    changed = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    at_0001 = {name: sa.column(name, UTCDateTime()) for name in ("created_at", "updated_at")}
    workspaces = sa.table("workspaces", sa.column("id"), sa.column("team_id"), sa.column("tz"),
                          sa.column("ticket_prefix"), sa.column("next_ticket_number"),
                          sa.column("admins", sa.JSON()), *at_0001.values())
    channels = sa.table(
        "tracked_channels", sa.column("id"), sa.column("workspace_id"), sa.column("channel_id"),
        *(sa.column(name, sa.JSON()) for name in (
            "escalation_channel_ids", "manager_user_ids", "responder_user_ids")),
        sa.column("tracking"),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
    )
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(workspaces.insert().values(
                id=1, team_id="T1", tz="UTC", ticket_prefix="SLA", next_ticket_number=1,
                admins=[], created_at=changed, updated_at=changed))
            connection.execute(channels.insert(), [
                {"id": n, "workspace_id": 1, "channel_id": f"C{n}", "tracking": tracking,
                 "escalation_channel_ids": [], "manager_user_ids": [],
                 "responder_user_ids": [], "created_at": changed, "updated_at": changed}
                for n, tracking in ((1, True), (2, False))
            ])
        migrate.upgrade(empty_db_url)
        with unit_of_work(engine) as session:
            since = {c.channel_id: c.tracking_since
                     for c in session.exec(select(TrackedChannel))}
    finally:
        engine.dispose()
    assert since == {"C1": changed, "C2": None}


def test_0005_drops_workspace_admins_and_keeps_workspaces_and_their_channels(empty_db_url):
    """Dropped in place: a copy of the table would cascade-delete its children on SQLite."""
    migrate.upgrade(empty_db_url, "0004")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    workspaces = sa.table("workspaces", sa.column("id"), sa.column("team_id"), sa.column("tz"),
                          sa.column("ticket_prefix"), sa.column("next_ticket_number"),
                          sa.column("admins", sa.JSON()), sa.column("created_at", UTCDateTime()),
                          sa.column("updated_at", UTCDateTime()))
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(workspaces.insert().values(
                id=1, team_id="T1", tz="Europe/Paris", ticket_prefix="SLA",
                next_ticket_number=7, admins=["U1"], created_at=at, updated_at=at))
        with unit_of_work(engine) as session:
            session.add(TrackedChannel(workspace_id=1, channel_id="C1"))
        migrate.upgrade(empty_db_url)
        columns = {c["name"] for c in inspect(engine).get_columns("workspaces")}
        with unit_of_work(engine) as session:
            kept = session.exec(select(Workspace.team_id, Workspace.tz,
                                       Workspace.next_ticket_number)).all()
            channels = session.exec(select(TrackedChannel.channel_id)).all()
        migrate.downgrade(empty_db_url, "0004")
        with engine.connect() as connection:
            restored = connection.execute(sa.text("SELECT team_id, admins FROM workspaces")).all()
    finally:
        engine.dispose()
    assert "admins" not in columns
    assert (kept, channels) == ([("T1", "Europe/Paris", 7)], ["C1"])
    assert [(team, json.loads(admins) if isinstance(admins, str) else admins)
            for team, admins in restored] == [("T1", [])]


def test_0006_fills_the_rollups_from_the_tickets_there_are(empty_db_url):
    """Tickets stored before 0006 are in the rollups right after it: read from them, a
    period's numbers are the ticket scan's."""
    from datetime import timedelta

    from sla.breach import AT_RISK_FRACTION
    from sla.calendar import BusinessCalendar
    from sla.clock import compute_clock
    from sla.events import ClockEvent, EventKind
    from sla.policy import Policy
    from storage.models import Ticket
    from storage.repositories import compliance_counts, scan_compliance_counts
    from storage.repositories._sql import table_of
    from storage.repositories.ticket_clock import clock_columns

    migrate.upgrade(empty_db_url, "0005")
    now = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    policy = Policy.default(BusinessCalendar.always())
    engine = make_engine(empty_db_url)
    try:
        with unit_of_work(engine) as session:
            session.add(Workspace(id=1, team_id="T1"))
        with engine.begin() as connection:
            for n in range(12):
                created = now - timedelta(days=n, hours=n)
                events = [ClockEvent(EventKind.CREATED, created, "P2"),
                          ClockEvent(EventKind.RESPONDED, created + timedelta(minutes=20 * n))]
                if n % 3:
                    events.append(ClockEvent(EventKind.RESOLVED, created + timedelta(hours=n)))
                columns = clock_columns(compute_clock(events, policy, now), None,
                                        AT_RISK_FRACTION)
                connection.execute(table_of(Ticket).insert().values(
                    workspace_id=1, number=n + 1, key=f"SLA-{n + 1}", channel_id="C1",
                    message_ts=f"{n}.0", thread_ts=f"{n}.0", requester_id="U1", title="",
                    text="", source="message", created_at=created, version=1, updated_at=now,
                    resolved_at=events[-1].at if n % 3 else None, **columns))
        migrate.upgrade(empty_db_url)
        with unit_of_work(engine) as session:
            found = [
                (compliance_counts(session=session, workspace_id=1, start=start, end=now,
                                   now=now),
                 scan_compliance_counts(session=session, workspace_id=1, start=start, end=now,
                                        now=now))
                for start in (now - timedelta(days=3, hours=5), now - timedelta(days=30))]
    finally:
        engine.dispose()
    for from_rollups, from_scan in found:
        assert from_rollups == from_scan
    assert found[-1][0].overall.met and found[-1][0].overall.breached


def test_0007_fills_the_responder_rollups_from_the_histories_there_are(empty_db_url):
    """Tickets and their histories stored before 0007 are in the responder rollups right
    after it: the figures read from them are `responder_rows` over the histories."""
    from datetime import timedelta

    from sla.events import ClockEvent, EventKind
    from sla.policy import Policy
    from sla.responders import ActorEvent, ResponderTicket, responder_rows
    from storage.models import Ticket, TicketEvent
    from storage.repositories._sql import table_of
    from storage.repositories.responder_reads import responder_figures

    migrate.upgrade(empty_db_url, "0006")
    now = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # a Thursday
    engine = make_engine(empty_db_url)
    histories = []
    try:
        with unit_of_work(engine) as session:
            session.add(Workspace(id=1, team_id="T1"))
        with engine.begin() as connection:
            for n in range(10):
                created = now - timedelta(days=n, hours=n + 1)
                steps = [("created", created, "UREQ", None),
                         ("assigned", created + timedelta(minutes=5), "UBOSS",
                          "UANN" if n % 2 else "UBO"),
                         ("responded", created + timedelta(minutes=30 * n), "UANN", None)]
                if n % 3:
                    steps.append(("resolved", created + timedelta(hours=n), "UBO", None))
                connection.execute(table_of(Ticket).insert().values(
                    id=n + 1, workspace_id=1, number=n + 1, key=f"SLA-{n + 1}",
                    channel_id="C1", message_ts=f"{n}.0", thread_ts=f"{n}.0", priority="P2",
                    requester_id="UREQ", title="", text="", source="message",
                    created_at=created, version=1, updated_at=now))
                connection.execute(table_of(TicketEvent).insert(), [
                    {"ticket_id": n + 1, "kind": kind, "at": at, "actor_id": actor,
                     "priority": "P2" if kind == "created" else None, "note": note,
                     "created_at": now} for kind, at, actor, note in steps])
                histories.append(ResponderTicket(
                    f"SLA-{n + 1}",
                    tuple(ClockEvent(EventKind(kind), at, "P2" if kind == "created" else None)
                          for kind, at, _actor, _note in steps if kind != "assigned"),
                    tuple(ActorEvent(*step) for step in steps)))
        migrate.upgrade(empty_db_url)
        with unit_of_work(engine) as session:
            found = {days: responder_figures(session=session, workspace_id=1,
                                             start=now - timedelta(days=days), end=now, now=now)
                     for days in (3, 30)}
    finally:
        engine.dispose()
    for days, rows in found.items():
        expected = responder_rows(((t, Policy.default()) for t in histories),
                                  now - timedelta(days=days), now, now)
        assert rows == expected
    people = {r.user_id: r for r in found[30]}
    assert people["UANN"].first_responses == 10 and people["UBO"].resolutions == 6
    assert sum(r.breaches_assigned for r in found[30]) > 0


def test_busy_tables_are_vacuumed_at_one_percent_on_postgresql(empty_db_url):
    """tickets (0006) and responder_facts (0009) must not wait for 20% of dead rows: reports
    read their newest rows, which a stale visibility map or dead rows make slow."""
    if not empty_db_url.startswith("postgresql"):
        pytest.skip("per-table autovacuum settings are PostgreSQL's")
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            options = dict(connection.execute(sa.text(
                "SELECT relname, reloptions FROM pg_class "
                "WHERE relname IN ('tickets', 'responder_facts')")).all())
    finally:
        engine.dispose()
    for table in ("tickets", "responder_facts"):
        assert "autovacuum_vacuum_scale_factor=0.01" in (options[table] or []), table
