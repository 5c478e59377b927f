"""Responder figures kept current: each ticket's contributions (``sla.responders``: first
responses, resolutions, breaches while assigned) as ``responder_facts`` rows, and their sums
per channel, UTC day and person in ``responder_rollups``.

Contributions follow the clock and who did what: whenever a ticket's clock is stored
(``apply_clock``, which follows every entry that moves the clock), it is assigned (an entry
that moves no clock) or its history is imported at once, ``track`` recomputes them from its
whole history under the policy in force for its channel; when they differ from its rows,
the rows are replaced and the difference added to the rollup rows in the same unit of work.
Rollup rows are only ever incremented (``n = n + excluded.n``, elapsed values appended,
those taken back appended negated, as in ``storage.repositories.rollups``), so two replicas
never lose an update. A breach still ahead is a row too: readers count the rows not after
their ``now``.

A ticket created with nothing but its CREATED entry has no contributions (nobody answered,
resolved or was assigned yet), so creating tickets writes nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, select, text
from sqlmodel import Session

from sla.policy import Policy
from sla.responders import Contribution, ContributionKind, contributions
from storage.models import ResponderFact, ResponderRollup, Ticket, TicketEvent
from storage.repositories._sql import table_of
from storage.repositories.histories import StoredEvent, actor_history, clock_history
from storage.repositories.rollup_days import day_of
from storage.repositories.rollups import elapsed_blob, upsert_adding
from storage.repositories.workspaces import get_policy

FACTS = table_of(ResponderFact)
ROLLUPS = table_of(ResponderRollup)
_TICKETS = table_of(Ticket)
_EVENTS = table_of(TicketEvent)
COUNTS = {ContributionKind.FIRST_RESPONSE.value: "first_responses",
          ContributionKind.RESOLUTION.value: "resolutions",
          ContributionKind.BREACH.value: "breaches"}
_KEY = ("workspace_id", "channel_id", "day", "user_id")
_MICRO = timedelta(microseconds=1)
_CHUNK = 500  # keep IN lists short on both engines
_REBUILD_BATCH = 20_000

RollupKey = tuple[int, str, date, str]  # workspace, channel, day, user


class Fact(NamedTuple):
    """A stored contribution: kind, instant (UTC), person, elapsed microseconds."""

    kind: str
    at: datetime
    user_id: str
    elapsed_us: int


def facts_of(found: Iterable[Contribution]) -> list[Fact]:
    """Contributions as they are stored."""
    return [Fact(c.kind.value, c.at.astimezone(UTC), c.user_id, c.elapsed // _MICRO)
            for c in found]


class _Change:
    """What changes in one rollup row."""

    __slots__ = ("added", "counts", "taken")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTS.values(), 0)
        self.added: list[int] = []
        self.taken: list[int] = []


class ResponderDelta:
    """What some tickets' changed contributions add to the rollup rows, netted per row."""

    def __init__(self) -> None:
        self.rows: dict[RollupKey, _Change] = {}

    def add(self, workspace_id: int, channel_id: str, facts: Iterable[Fact],
            sign: int = 1) -> None:
        """Add what ``facts`` count (``sign`` -1: take them back)."""
        for fact in facts:
            key = (workspace_id, channel_id, day_of(fact.at), fact.user_id)
            change = self.rows.get(key)
            if change is None:
                change = self.rows[key] = _Change()
            change.counts[COUNTS[fact.kind]] += sign
            if fact.kind == ContributionKind.FIRST_RESPONSE.value:
                (change.added if sign > 0 else change.taken).append(fact.elapsed_us)

    def apply(self, connection: Connection) -> None:
        """Add the changes to the rollup rows (in key order: replicas lock them alike)."""
        rows = []
        for key, change in sorted(self.rows.items()):
            elapsed = elapsed_blob(change.added, change.taken)
            if any(change.counts.values()) or elapsed:
                rows.append({**dict(zip(_KEY, key, strict=True)), **change.counts,
                             "elapsed": elapsed})
        if rows:
            connection.execute(upsert_adding(connection, ROLLUPS, _KEY), rows)


class _Policies:
    """The policy in force per channel (``get_policy``), each read once."""

    def __init__(self, session: Session, given: Policy | None = None) -> None:
        self._session, self._given = session, given
        self._found: dict[tuple[int, str], Policy] = {}

    def __call__(self, workspace_id: int, channel_id: str) -> Policy:
        if self._given is not None:
            return self._given
        key = (workspace_id, channel_id)
        if key not in self._found:
            self._found[key] = get_policy(session=self._session, workspace_id=workspace_id,
                                          channel_id=channel_id)
        return self._found[key]


def contributions_of(events: Sequence[StoredEvent], policy: Policy) -> list[Fact]:
    """A stored history's contributions under ``policy``."""
    return facts_of(contributions(clock_history(events), actor_history(events), policy))


def track(session: Session, ticket_ids: Iterable[int], *, policy: Policy | None = None) -> None:
    """Bring these tickets' contribution rows and the rollups up to their stored histories,
    under ``policy`` when the caller holds the one in force (else it is read)."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return
    connection = session.connection()
    policies = _Policies(session, policy)
    delta = ResponderDelta()
    replaced: list[int] = []
    rows: list[dict[str, Any]] = []
    for begin in range(0, len(wanted), _CHUNK):
        chunk = wanted[begin:begin + _CHUNK]
        stored = _stored_facts(connection, chunk)
        for (ticket_id, workspace_id, channel_id), events in _histories(
                connection, _EVENTS.c.ticket_id.in_(chunk)):
            new = contributions_of(events, policies(workspace_id, channel_id))
            old = stored.get(ticket_id, [])
            if new == old:
                continue
            delta.add(workspace_id, channel_id, old, -1)
            delta.add(workspace_id, channel_id, new)
            replaced.append(ticket_id)
            rows += fact_rows(ticket_id, workspace_id, channel_id, new)
    for begin in range(0, len(replaced), _CHUNK):
        connection.execute(delete(FACTS).where(
            FACTS.c.ticket_id.in_(replaced[begin:begin + _CHUNK])))
    if rows:
        connection.execute(FACTS.insert(), rows)
    delta.apply(connection)


def fact_rows(ticket_id: int, workspace_id: int, channel_id: str,
              facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The ``responder_facts`` rows of one ticket's contributions."""
    return [{"ticket_id": ticket_id, "seq": seq, "workspace_id": workspace_id,
             "channel_id": channel_id, **fact._asdict()} for seq, fact in enumerate(facts)]


def _stored_facts(connection: Connection, ticket_ids: Sequence[int]) -> dict[int, list[Fact]]:
    found: dict[int, list[Fact]] = {}
    for ticket_id, *fact in connection.execute(
            select(FACTS.c.ticket_id, FACTS.c.kind, FACTS.c.at, FACTS.c.user_id,
                   FACTS.c.elapsed_us)
            .where(FACTS.c.ticket_id.in_(ticket_ids))
            .order_by(FACTS.c.ticket_id, FACTS.c.seq)):
        found.setdefault(ticket_id, []).append(Fact(*fact))
    return found


TicketPlace = tuple[int, int, str]  # ticket id, workspace, channel


def _histories(connection: Connection, where: Any
               ) -> Iterator[tuple[TicketPlace, list[StoredEvent]]]:
    """Each ticket's whole history, oldest entry first, ticket after ticket (streamed)."""
    e, t = _EVENTS.c, _TICKETS.c
    rows = connection.execute(
        select(e.ticket_id, t.workspace_id, t.channel_id, e.kind, e.at, e.actor_id, e.priority,
               e.note)
        .join(_TICKETS, t.id == e.ticket_id)
        .where(where)
        .order_by(e.ticket_id, e.at, e.id)
        .execution_options(stream_results=True, yield_per=_REBUILD_BATCH))
    for place, entries in groupby(rows, key=lambda row: (row[0], row[1], row[2])):
        yield place, [StoredEvent(*row[3:]) for row in entries]


def rebuild(session: Session, workspace_id: int) -> int:
    """Recompute a workspace's contribution rows and rollups from every ticket's history
    under the policy in force for its channel; the number of tickets read.

    Run it in its own transaction; on PostgreSQL the two tables are locked against writers
    first (as ``rollups.rebuild`` does)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE responder_facts, responder_rollups "
                                "IN EXCLUSIVE MODE"))
    for table in (FACTS, ROLLUPS):
        connection.execute(delete(table).where(table.c.workspace_id == workspace_id))
    policies = _Policies(session)
    delta = ResponderDelta()
    rows: list[dict[str, Any]] = []
    read = 0
    for (ticket_id, _workspace, channel_id), events in _histories(
            connection, _TICKETS.c.workspace_id == workspace_id):
        facts = contributions_of(events, policies(workspace_id, channel_id))
        delta.add(workspace_id, channel_id, facts)
        rows += fact_rows(ticket_id, workspace_id, channel_id, facts)
        read += 1
        if len(rows) >= _REBUILD_BATCH:  # written while the histories stream in
            connection.execute(FACTS.insert(), rows)
            rows = []
    if rows:
        connection.execute(FACTS.insert(), rows)
    delta.apply(connection)
    return read
