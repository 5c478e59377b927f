"""Daily rollups kept current and rebuilt: what one ticket adds to them, netted per row and
added with an UPSERT of increments.

A ticket adds, for each metric it has stopped (its stored columns, ``storage.models.Ticket``),
with ``a`` its start, ``b`` its stop and ``due`` its due instant (to its channel's rows, and
the same to its workspace's totals):

- on ``b``'s day: one stopped metric (breached or not), its elapsed time, and a breach
  record (by how much, which ticket, due and stop instants) when it breached or stopped
  after its due instant;
- on ``a``'s day one ``started``; when it stopped after its due instant (late), one
  ``late_from`` on ``due``'s day and one ``late_until`` on ``b``'s day; when its elapsed time
  reached ``AT_RISK_FRACTION`` of its target, one ``risk_from`` on ``a``'s day and one
  ``risk_until`` on the day of ``min(b, due)``.

How many closed metrics were open at an instant ``T`` (``a < T <= b``), open and late
(``due < T <= b``) or open, not late and at risk by elapsed time (``a < T <= min(b, due)``)
is then the number of such intervals ending at or after ``T`` minus those starting at or after
it: sums over the days after ``T``. (``sla.clock`` starts a metric no later than it stops or
falls due, so every interval is the right way round.) A ticket also adds one ``created`` on
its creation day and one ``resolved`` on its resolved day.

Changing a ticket takes back what its old columns added and adds what the new ones add, in
the unit of work that stores them; rows are only ever incremented (``n = n + excluded.n``,
blobs appended), so two replicas changing tickets of the same row never lose an update.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import numpy as np
from sqlalchemy import Connection, LargeBinary, RowMapping, Table, cast, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite

from sla.breach import AT_RISK_FRACTION
from sla.targets import Metric
from storage.models import MetricRollup, Ticket, TicketRollup, WorkspaceRollup
from storage.repositories._sql import table_of
from storage.repositories.rollup_days import day_of

METRIC_ROLLUPS: Table = table_of(MetricRollup)
WORKSPACE_ROLLUPS: Table = table_of(WorkspaceRollup)
TICKET_ROLLUPS: Table = table_of(TicketRollup)
TICKETS: Table = table_of(Ticket)
COUNTS = ("stopped", "breached", "started", "late_from", "late_until", "risk_from",
          "risk_until")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_DUE = -(2**63)  # a breach record's due instant when the metric had none (paused)
# A breach record: over by (µs), ticket id (negated: taken back), due (µs), breached (0/1),
# stopped (µs; so that a part of a day is its day's records, without reading tickets).
BREACH_FIELDS = 5
_MICRO = timedelta(microseconds=1)

MetricKey = tuple[int, str, date, str, str, float]  # workspace, channel, day, priority, ...
TotalKey = tuple[int, date, str]  # workspace, day, metric
TicketKey = tuple[int, str, date]  # workspace, channel, day
BreachRecord = tuple[int, int, int, int, int]
_T = TypeVar("_T", int, BreachRecord)


class ClosedMetric(NamedTuple):
    """A stopped metric's stored columns."""

    metric: Metric
    target_s: float
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime
    elapsed_s: float
    breached: bool


class TicketImage(NamedTuple):
    """What of a ticket the rollups count: where it belongs and its stopped metrics."""

    ticket_id: int
    workspace_id: int
    channel_id: str
    priority: str
    created_at: datetime
    resolved_at: datetime | None
    closed: tuple[ClosedMetric, ...]


def ticket_image(ticket: Ticket) -> TicketImage | None:
    """The image of a stored ticket object (None before it has an id)."""
    if ticket.id is None:
        return None
    return _image(lambda name: getattr(ticket, name))


def row_image(row: Mapping[str, Any] | RowMapping) -> TicketImage:
    """The image of a ticket row (a Core result mapping or an INSERT's values with ``id``)."""
    return _image(row.__getitem__)


_METRIC_COLUMNS = tuple(
    (metric, f"{metric.value}_stopped_at", f"{metric.value}_target_s",
     f"{metric.value}_started_at", f"{metric.value}_due_at", f"{metric.value}_elapsed_s",
     f"{metric.value}_breached")
    for metric in Metric
)


def _image(get: Callable[[str], Any]) -> TicketImage:
    closed = []
    for metric, stopped_at, target_s, started_at, due_at, elapsed_s, breached in _METRIC_COLUMNS:
        stopped, target, started = get(stopped_at), get(target_s), get(started_at)
        if stopped is None or target is None or started is None:
            continue
        closed.append(ClosedMetric(metric, float(target), started, get(due_at), stopped,
                                   float(get(elapsed_s) or 0.0), bool(get(breached))))
    return TicketImage(get("id"), get("workspace_id"), get("channel_id"), get("priority"),
                       get("created_at"), get("resolved_at"), tuple(closed))


def micros(at: datetime) -> int:
    """An instant as whole microseconds since 1970 (exact)."""
    return (at - EPOCH) // _MICRO


def elapsed_micros(elapsed_s: float) -> int:
    """Elapsed seconds as whole microseconds, rounded as the ticket scan rounds them."""
    return round(elapsed_s * 1_000_000)


def at_risk_by_elapsed(elapsed_s: float, target_s: float) -> bool:
    """The elapsed half of the at-risk rule at the rollups' fraction (``elapsed / target``
    compared in floating point, as SQL compares it)."""
    return target_s > 0 and elapsed_s / target_s >= AT_RISK_FRACTION


def breach_record(ticket_id: int, closed: ClosedMetric) -> BreachRecord | None:
    """The worst-breaches record of a stopped metric, when it breached or stopped late."""
    due = closed.due_at
    late = due is not None and due < closed.stopped_at
    if not (closed.breached or late):
        return None
    over = timedelta(seconds=closed.elapsed_s) - timedelta(seconds=closed.target_s)
    return (over // _MICRO, ticket_id, NO_DUE if due is None else micros(due),
            int(closed.breached), micros(closed.stopped_at))


_STOPPED, _BREACHED, _STARTED, _LATE_FROM, _LATE_UNTIL, _RISK_FROM, _RISK_UNTIL = range(
    len(COUNTS))


class _Change:
    """What changes in one rollup row: counts, and blob entries added or taken back."""

    __slots__ = ("breaches", "breaches_taken", "counts", "elapsed", "elapsed_taken")

    def __init__(self) -> None:
        self.counts = [0] * len(COUNTS)
        self.elapsed: list[int] = []
        self.elapsed_taken: list[int] = []
        self.breaches: list[BreachRecord] = []
        self.breaches_taken: list[BreachRecord] = []

    def add(self, other: _Change) -> None:
        for index, value in enumerate(other.counts):
            self.counts[index] += value
        self.elapsed += other.elapsed
        self.elapsed_taken += other.elapsed_taken
        self.breaches += other.breaches
        self.breaches_taken += other.breaches_taken

    def blobs(self) -> tuple[bytes, bytes]:
        """The entries to append: additions, and what was taken back negated; an entry both
        taken back and added again (an unchanged metric) is left out."""
        breaches, breaches_taken = _net(self.breaches, self.breaches_taken)
        records = breaches + [(o, -i, d, b, s) for o, i, d, b, s in breaches_taken]
        return (elapsed_blob(self.elapsed, self.elapsed_taken),
                np.array(records, dtype="<i8").reshape(-1).tobytes())


def elapsed_blob(added: list[int], taken: list[int]) -> bytes:
    """The elapsed entries to append to a blob: additions, and what was taken back as
    ``-value - 1``; a value both taken back and added again is left out."""
    kept, gone = _net(added, taken)
    return np.array(kept + [-value - 1 for value in gone], dtype="<i8").tobytes()


def _net(added: list[_T], taken: list[_T]) -> tuple[list[_T], list[_T]]:
    if not taken:
        return added, []
    balance = Counter(added)
    balance.subtract(taken)
    return list(balance.elements()), list((-balance).elements())


class RollupDelta:
    """What some ticket changes add to the rollups, netted per row."""

    def __init__(self) -> None:
        self.metrics: dict[MetricKey, _Change] = {}
        self.tickets: dict[TicketKey, list[int]] = {}

    def add(self, image: TicketImage | None, sign: int = 1) -> None:
        """Add what ``image`` counts (``sign`` -1: take it back)."""
        if image is None:
            return
        self._ticket_day(image, image.created_at, 0, sign)
        if image.resolved_at is not None:
            self._ticket_day(image, image.resolved_at, 1, sign)
        for closed in image.closed:
            self._metric(image, closed, sign)

    def _ticket_day(self, image: TicketImage, at: datetime, index: int, sign: int) -> None:
        key = (image.workspace_id, image.channel_id, day_of(at))
        self.tickets.setdefault(key, [0, 0])[index] += sign

    def _metric(self, image: TicketImage, closed: ClosedMetric, sign: int) -> None:
        """Count a stopped metric on the days of its instants (module docstring)."""
        rows = self.metrics
        workspace, channel, priority = image.workspace_id, image.channel_id, image.priority
        metric, target = closed.metric.value, closed.target_s

        def row(at: datetime) -> _Change:
            key = (workspace, channel, day_of(at), priority, metric, target)
            found = rows.get(key)
            if found is None:
                found = rows[key] = _Change()
            return found

        stop, due = closed.stopped_at, closed.due_at
        stopped = row(stop)
        stopped.counts[_STOPPED] += sign
        stopped.counts[_BREACHED] += sign * closed.breached
        (stopped.elapsed if sign > 0 else stopped.elapsed_taken).append(
            elapsed_micros(closed.elapsed_s))
        record = breach_record(image.ticket_id, closed)
        if record is not None:
            (stopped.breaches if sign > 0 else stopped.breaches_taken).append(record)
        started = row(closed.started_at)
        started.counts[_STARTED] += sign
        if due is not None and due < stop:
            row(due).counts[_LATE_FROM] += sign
            stopped.counts[_LATE_UNTIL] += sign
        if at_risk_by_elapsed(closed.elapsed_s, closed.target_s):
            started.counts[_RISK_FROM] += sign
            row(stop if due is None else min(stop, due)).counts[_RISK_UNTIL] += sign

    def totals(self) -> dict[TotalKey, _Change]:
        """The same changes summed per workspace, day and metric."""
        found: dict[TotalKey, _Change] = {}
        for (workspace, _channel, day, _priority, metric, _target), change in self.metrics.items():
            found.setdefault((workspace, day, metric), _Change()).add(change)
        return found

    def apply(self, connection: Connection) -> None:
        """Add the changes to the rollup rows (tables and rows in key order: replicas lock
        them alike)."""
        tables: tuple[tuple[Table, tuple[str, ...], Mapping[Any, _Change]], ...] = (
            (METRIC_ROLLUPS, _METRIC_KEY, self.metrics),
            (WORKSPACE_ROLLUPS, _TOTAL_KEY, self.totals()))
        for table, key_names, changes in tables:
            rows = []
            for key, change in sorted(changes.items()):
                elapsed, breaches = change.blobs()
                if any(change.counts) or elapsed or breaches:
                    rows.append({**dict(zip(key_names, key, strict=True)),
                                 **dict(zip(COUNTS, change.counts, strict=True)),
                                 "elapsed": elapsed, "breaches": breaches})
            if rows:
                connection.execute(upsert_adding(connection, table, key_names), rows)
        ticket_rows = [
            {**dict(zip(_TICKET_KEY, key, strict=True)), "created": created,
             "resolved": resolved}
            for key, (created, resolved) in sorted(self.tickets.items()) if created or resolved
        ]
        if ticket_rows:
            connection.execute(upsert_adding(connection, TICKET_ROLLUPS, _TICKET_KEY),
                               ticket_rows)


_METRIC_KEY = ("workspace_id", "channel_id", "day", "priority", "metric", "target_s")
_TOTAL_KEY = ("workspace_id", "day", "metric")
_TICKET_KEY = ("workspace_id", "channel_id", "day")


def upsert_adding(connection: Connection, table: Table, key: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, blob = blob || new."""
    insert = (postgresql.insert(table) if connection.dialect.name == "postgresql"
              else sqlite.insert(table))
    excluded = insert.excluded
    changes: dict[str, Any] = {}
    for column in table.columns:
        if column.name in key:
            continue
        if isinstance(column.type, LargeBinary):
            # SQLite's || makes text of two blobs: cast back (the bytes are untouched).
            changes[column.name] = cast(column.concat(excluded[column.name]), LargeBinary)
        else:
            changes[column.name] = column + excluded[column.name]
    return insert.on_conflict_do_update(index_elements=list(key), set_=changes)


def track(connection: Connection, before: TicketImage | None, after: TicketImage | None) -> None:
    """Move the rollups from what ``before`` counted to what ``after`` counts."""
    if before == after:
        return
    delta = RollupDelta()
    delta.add(before, -1)
    delta.add(after)
    delta.apply(connection)


def add_tickets(connection: Connection, images: Iterable[TicketImage]) -> None:
    """Count new tickets (born with their columns, e.g. an intake batch or an import)."""
    delta = RollupDelta()
    for image in images:
        delta.add(image)
    delta.apply(connection)


def rebuild(connection: Connection, workspace_id: int) -> int:
    """Recompute a workspace's rollups from its tickets; the number of tickets read.

    Run it in its own transaction. On PostgreSQL the rollup tables are locked against
    writers first: a ticket change committed before the lock is in the tickets read, one
    still running adds its change after the rebuild commits (its old columns were read).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE metric_rollups, workspace_rollups, ticket_rollups "
                                "IN EXCLUSIVE MODE"))
    for table in (METRIC_ROLLUPS, WORKSPACE_ROLLUPS, TICKET_ROLLUPS):
        connection.execute(delete(table).where(table.c.workspace_id == workspace_id))
    delta = RollupDelta()
    read = 0
    rows = connection.execute(
        select(*(TICKETS.c[name] for name in _IMAGE_COLUMNS))
        .where(TICKETS.c.workspace_id == workspace_id)
        .execution_options(stream_results=True, yield_per=20_000))
    for row in rows:
        delta.add(row_image(row._mapping))
        read += 1
    delta.apply(connection)
    return read


_IMAGE_COLUMNS = (
    "id", "workspace_id", "channel_id", "priority", "created_at", "resolved_at",
    *(f"{metric.value}_{name}" for metric in Metric
      for name in ("target_s", "started_at", "due_at", "stopped_at", "elapsed_s", "breached")),
)


def images(connection: Connection, ticket_ids: Iterable[int]) -> dict[int, TicketImage]:
    """The stored images of these tickets, by id."""
    found = {}
    wanted = sorted(set(ticket_ids))
    for begin in range(0, len(wanted), 500):  # keep IN lists short on both engines
        statement = select(*(TICKETS.c[name] for name in _IMAGE_COLUMNS)).where(
            TICKETS.c.id.in_(wanted[begin:begin + 500]))
        for row in connection.execute(statement):
            image = row_image(row._mapping)
            found[image.ticket_id] = image
    return found


def workspace_ids(connection: Connection) -> list[int]:
    """Every workspace with tickets (what a full rebuild goes through)."""
    return sorted(connection.execute(select(TICKETS.c.workspace_id).distinct()).scalars())
