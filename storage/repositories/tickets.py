"""Tickets and their event history: creation, lookups, state updates and lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, text, update
from sqlalchemy import insert as _insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from sla.clock import MetricState, TicketClock, compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority
from storage.errors import DuplicateTicket, NotFound, StorageError
from storage.mappers import clock_events
from storage.models import UNRESOLVED, Ticket, TicketEvent, TicketStatus, Workspace, utcnow

TITLE_LENGTH = 150
TEXT_LENGTH = 3000
# Events that are history only (they do not move the clock), next to sla.clock.EventKind.
NOTE_EVENT_KINDS = frozenset({"assigned", "note"})
AT_RISK_FRACTION = 0.8
_KEY_RE = re.compile(r"^\s*(?:(?P<prefix>[A-Za-z]+)-|#)?(?P<number>\d+)\s*$")
_UNSET: Any = object()


def create_ticket(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str,
    message_ts: str,
    requester_id: str,
    priority: Priority | str,
    created_at: datetime,
    thread_ts: str | None = None,
    text: str = "",
    title: str | None = None,
    source: str = "message",
    assignee_id: str | None = None,
    permalink: str | None = None,
    policy: Policy | None = None,
    next_due_at: datetime | None = _UNSET,
    clock: TicketClock | None = None,
) -> Ticket:
    """Create the ticket of one Slack message with its CREATED event, numbered SLA-n.

    The number comes from an atomic counter on the workspace. If the message already is a
    ticket, raises ``DuplicateTicket`` carrying the existing ticket and writes nothing. With
    ``policy`` the ticket is born with its targets, due instants and ``next_due_at`` (by
    default ``created_at``: the scheduler plans it at once; see ``apply_clock``); pass the
    ``clock`` already computed from its CREATED event to save computing it again.
    """
    priority = Priority.parse(priority)
    connection = session.connection()
    known = connection.execute(_TICKET_OF_MESSAGE, {
        "workspace_id": workspace_id, "channel_id": channel_id, "message_ts": message_ts,
    }).first()
    if known is not None:
        raise DuplicateTicket(get_ticket(session=session, ticket_id=known[0]))
    savepoint = session.begin_nested()
    try:
        # Core statements built once, on the session's connection: the ORM's flush and
        # statement building cost more than the statements themselves, and intake runs
        # this once per message. Asking the session for the connection again is what emits
        # the SAVEPOINT (begin_nested alone defers it).
        connection = session.connection()
        number, prefix = connection.execute(_NEXT_NUMBER, {"workspace_id": workspace_id}).one()
        if policy is not None and clock is None:
            clock = compute_clock([ClockEvent(EventKind.CREATED, created_at, priority)], policy,
                                  created_at)
        # Born with its clock (given a policy): inserted complete instead of updated after.
        row = _ticket_row(NewTicket(
            workspace_id=workspace_id, channel_id=channel_id, message_ts=message_ts,
            requester_id=requester_id, priority=priority, created_at=created_at,
            clock=clock if policy is not None else None, next_due_at=next_due_at,
            thread_ts=thread_ts, text=text, title=title, source=source,
            assignee_id=assignee_id, permalink=permalink,
        ), number, prefix)
        ticket_id = connection.execute(_INSERT_TICKET, row).scalar_one()
        connection.execute(_INSERT_EVENT, _created_event(ticket_id, row))
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        existing = get_ticket_by_message(
            session=session, workspace_id=workspace_id, channel_id=channel_id,
            message_ts=message_ts,
        )
        if existing is None:
            raise
        raise DuplicateTicket(existing) from None
    except Exception:
        savepoint.rollback()
        raise
    # Read back rather than built: a loaded object costs a fraction of a constructed one.
    return get_ticket(session=session, ticket_id=ticket_id)


@dataclass(frozen=True)
class NewTicket:
    """One ticket for ``create_tickets``: what ``create_ticket`` takes, with its clock."""

    workspace_id: int
    channel_id: str
    message_ts: str
    requester_id: str
    priority: Priority
    created_at: datetime
    clock: TicketClock | None  # None: no targets yet (a ticket made without a policy)
    next_due_at: datetime | None
    thread_ts: str | None = None
    text: str = ""
    title: str | None = None  # default: the first line of `text`
    source: str = "message"
    assignee_id: str | None = None
    permalink: str | None = None


def create_tickets(*, session: Session, new: Sequence[NewTicket]) -> list[Ticket | None]:
    """``create_ticket`` for many messages in a handful of statements (intake batches).

    Per workspace: one SELECT finds messages that already are tickets, one UPDATE reserves
    the numbers, one multi-row INSERT each for the tickets and their CREATED events. The
    result lines up with ``new``: the ticket, or None where the message already was a ticket
    (or appears earlier in ``new``). A ticket written meanwhile by another process raises
    ``IntegrityError`` (the unique key decides); the caller retries one by one.
    """
    results: list[Ticket | None] = [None] * len(new)
    by_workspace: dict[int, list[int]] = {}
    for index, item in enumerate(new):
        by_workspace.setdefault(item.workspace_id, []).append(index)
    connection = session.connection()
    created: list[tuple[int, dict[str, Any]]] = []
    for workspace_id, indexes in by_workspace.items():
        known = {tuple(row) for row in connection.execute(
            select(_TICKETS.c.channel_id, _TICKETS.c.message_ts).where(
                _TICKETS.c.workspace_id == workspace_id,
                _TICKETS.c.message_ts.in_(sorted({new[i].message_ts for i in indexes})),
            )
        )}
        fresh = []
        for index in indexes:
            key = (new[index].channel_id, new[index].message_ts)
            if key not in known:
                known.add(key)
                fresh.append(index)
        if not fresh:
            continue
        last, prefix = connection.execute(_RESERVE_NUMBERS, {
            "workspace_id": workspace_id, "count": len(fresh),
        }).one()
        for number, index in enumerate(fresh, start=last - len(fresh) + 1):
            created.append((index, _ticket_row(new[index], number, prefix)))
    if not created:
        return results
    # A plain executemany, then one SELECT for the ids and objects: INSERT ... RETURNING in
    # parameter order would be sent row by row, and building ORM objects by hand costs
    # several times what loading them does. (workspace_id, number) is unique and the numbers
    # were reserved above, so the read-back finds exactly these rows.
    connection.execute(_INSERT_MANY, [row for _index, row in created])
    loaded = {(t.workspace_id, t.number): t for t in _read_back(session, created)}
    connection.execute(_INSERT_EVENT, [
        _created_event(loaded[row["workspace_id"], row["number"]].id, row)
        for _index, row in created
    ])
    for index, row in created:
        results[index] = loaded[row["workspace_id"], row["number"]]
    return results


def _read_back(session: Session, created: list[tuple[int, dict[str, Any]]]) -> list[Ticket]:
    """The tickets just inserted from `created` rows, loaded in the session."""
    numbers: dict[int, list[int]] = {}
    for _index, row in created:
        numbers.setdefault(row["workspace_id"], []).append(row["number"])
    found: list[Ticket] = []
    for workspace_id, taken in numbers.items():
        found.extend(session.exec(select(Ticket).where(
            Ticket.workspace_id == workspace_id, Ticket.number.between(min(taken), max(taken))
        )))
    return found


def _ticket_row(item: NewTicket, number: int, prefix: str) -> dict[str, Any]:
    """Every column of a new ticket's row but its id, as the INSERT takes them."""
    row = dict(_BLANK_ROW)
    row.update(
        workspace_id=item.workspace_id,
        number=number,
        key=f"{prefix}-{number}",
        channel_id=item.channel_id,
        message_ts=item.message_ts,
        thread_ts=item.thread_ts or item.message_ts,
        requester_id=item.requester_id,
        assignee_id=item.assignee_id,
        priority=item.priority.value,
        title=_title(item.title if item.title is not None else item.text),
        text=item.text[:TEXT_LENGTH],
        source=item.source,
        permalink=item.permalink,
        created_at=item.created_at,
        updated_at=utcnow(),
    )
    if item.clock is not None:
        row.update(_clock_columns(item.clock, item.next_due_at, AT_RISK_FRACTION))
    return row


def _created_event(ticket_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """The CREATED history row of a ticket inserted from `row` (see `_ticket_row`)."""
    return {"ticket_id": ticket_id, "kind": EventKind.CREATED.value, "at": row["created_at"],
            "actor_id": row["requester_id"], "priority": row["priority"], "note": None}


_TICKETS = Ticket.__table__
_TICKET_KEYS = tuple(c.key for c in _TICKETS.columns if c.key != "id")
# A new ticket's row before its own values: nothing measured yet, open, first version.
_BLANK_ROW: dict[str, Any] = {
    **dict.fromkeys(_TICKET_KEYS), "status": TicketStatus.OPEN.value, "title": "", "text": "",
    "source": "message", "version": 1,
}
_TICKET_OF_MESSAGE = select(_TICKETS.c.id).where(
    _TICKETS.c.workspace_id == bindparam("workspace_id"),
    _TICKETS.c.channel_id == bindparam("channel_id"),
    _TICKETS.c.message_ts == bindparam("message_ts"),
)
_NEXT_NUMBER = (
    update(Workspace.__table__)
    .where(Workspace.__table__.c.id == bindparam("workspace_id"))
    .values(next_ticket_number=Workspace.__table__.c.next_ticket_number + 1)
    .returning(Workspace.__table__.c.next_ticket_number - 1, Workspace.__table__.c.ticket_prefix)
)
_RESERVE_NUMBERS = (
    update(Workspace.__table__)
    .where(Workspace.__table__.c.id == bindparam("workspace_id"))
    .values(next_ticket_number=Workspace.__table__.c.next_ticket_number + bindparam("count"))
    .returning(Workspace.__table__.c.next_ticket_number - 1, Workspace.__table__.c.ticket_prefix)
)
_INSERT_TICKET = _insert(_TICKETS).returning(_TICKETS.c.id)
_INSERT_MANY = _insert(_TICKETS)
_INSERT_EVENT = _insert(TicketEvent.__table__)
_SET_CARD_TS = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(card_ts=bindparam("card_ts"), version=_TICKETS.c.version + 1,
            updated_at=bindparam("updated_at"))
)


def get_ticket(*, session: Session, ticket_id: int, for_update: bool = False) -> Ticket:
    """The ticket with this id (locked for the rest of the unit of work with ``for_update``)."""
    statement = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        statement = statement.with_for_update()
    ticket = session.exec(statement).first()
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def get_ticket_by_key(*, session: Session, workspace_id: int, key: str) -> Ticket | None:
    """Find a ticket by its key as people type it: ``SLA-42``, ``sla-42``, ``#42`` or ``42``."""
    match = _KEY_RE.match(key or "")
    if match is None:
        return None
    return session.exec(
        select(Ticket).where(
            Ticket.workspace_id == workspace_id, Ticket.number == int(match["number"])
        )
    ).first()


def get_ticket_by_message(
    *, session: Session, workspace_id: int, channel_id: str, message_ts: str
) -> Ticket | None:
    """The ticket made from this Slack message, if any."""
    return session.exec(
        select(Ticket).where(
            Ticket.workspace_id == workspace_id,
            Ticket.channel_id == channel_id,
            Ticket.message_ts == message_ts,
        )
    ).first()


def newest_message_ts(*, session: Session, workspace_id: int, channel_id: str) -> str | None:
    """The latest Slack message ts among the channel's tickets (one seek of the unique
    (workspace, channel, message) index; ts strings of one era sort like their instants)."""
    return session.exec(
        select(func.max(Ticket.message_ts)).where(
            Ticket.workspace_id == workspace_id, Ticket.channel_id == channel_id
        )
    ).one()


def get_ticket_by_thread(
    *, session: Session, workspace_id: int, channel_id: str, thread_ts: str
) -> Ticket | None:
    """The ticket whose Slack thread is ``thread_ts`` (replies carry it), if any."""
    return session.exec(
        select(Ticket)
        .where(
            Ticket.workspace_id == workspace_id,
            Ticket.channel_id == channel_id,
            Ticket.thread_ts == thread_ts,
        )
        .order_by(Ticket.id)
    ).first()


def append_event(
    *,
    session: Session,
    ticket: Ticket,
    kind: EventKind | str,
    at: datetime,
    actor_id: str | None = None,
    priority: Priority | str | None = None,
    note: str | None = None,
) -> TicketEvent:
    """Add one event to a ticket's history and keep its plain facts in step.

    Facts: first response instant, resolved instant, status and priority. The SLA columns
    follow with ``apply_clock`` once the caller recomputed the clock.
    """
    kind = str(kind.value if isinstance(kind, EventKind) else kind)
    if kind not in {k.value for k in EventKind} | NOTE_EVENT_KINDS:
        allowed = ", ".join([*(k.value for k in EventKind), *sorted(NOTE_EVENT_KINDS)])
        raise StorageError(f"unknown ticket event kind {kind!r}: use one of {allowed}")
    parsed = Priority.parse(priority) if priority is not None else None
    if kind == EventKind.PRIORITY_CHANGED and parsed is None:
        raise StorageError("a priority_changed event needs the new priority")
    event = TicketEvent(
        ticket_id=ticket.id, kind=kind, at=at, actor_id=actor_id,
        priority=parsed.value if parsed else None, note=note,
    )
    session.add(event)
    if kind == EventKind.RESPONDED and ticket.first_response_at is None:
        ticket.first_response_at = at
    elif kind == EventKind.RESOLVED:
        ticket.resolved_at = at
        ticket.status = TicketStatus.RESOLVED.value
    elif kind == EventKind.REOPENED:
        ticket.resolved_at = None
        ticket.status = TicketStatus.OPEN.value
    elif kind == EventKind.PAUSED and ticket.status == TicketStatus.OPEN:
        ticket.status = TicketStatus.PAUSED.value
    elif kind == EventKind.RESUMED and ticket.status == TicketStatus.PAUSED:
        ticket.status = TicketStatus.OPEN.value
    elif kind == EventKind.PRIORITY_CHANGED and parsed is not None:
        ticket.priority = parsed.value
    elif kind == "assigned":
        ticket.assignee_id = actor_id if note is None else note
    _touch(ticket)
    session.add(ticket)
    session.flush()
    return event


def list_events(*, session: Session, ticket_id: int) -> list[TicketEvent]:
    """A ticket's history, oldest first (ties in insertion order)."""
    return list(
        session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )


def load_clock_events(*, session: Session, ticket_id: int) -> list[ClockEvent]:
    """The ticket's history as ``sla.clock`` events, ready for ``compute_clock``."""
    return clock_events(list_events(session=session, ticket_id=ticket_id))


def apply_clock(
    *,
    session: Session,
    ticket: Ticket,
    clock: TicketClock,
    next_due_at: datetime | None = _UNSET,
    at_risk_fraction: float = AT_RISK_FRACTION,
) -> Ticket:
    """Store a freshly computed clock on the ticket: status, priority, per-metric columns.

    ``next_due_at`` defaults to ``clock.now`` while any metric runs (so the scheduler plans
    the ticket right after every change, including thresholds a change made overdue) and to
    None otherwise; the scheduler passes its plan's ``next_wake_at``.
    """
    _set_clock(ticket, clock, next_due_at, at_risk_fraction)
    session.add(ticket)
    session.flush()
    return ticket


def _set_clock(ticket: Ticket, clock: TicketClock, next_due_at: datetime | None,
               at_risk_fraction: float) -> None:
    # apply_clock without the session: the attributes only (see apply_clock).
    for name, value in _clock_columns(clock, next_due_at, at_risk_fraction).items():
        setattr(ticket, name, value)
    _touch(ticket)


def _clock_columns(clock: TicketClock, next_due_at: datetime | None,
                   at_risk_fraction: float) -> dict[str, Any]:
    """The ticket columns that `clock` decides: status, priority, per-metric columns."""
    columns: dict[str, Any] = {}
    for metric in Metric:
        columns.update(_metric_columns(metric.value, clock.metrics.get(metric),
                                       at_risk_fraction))
    columns["priority"] = Priority.parse(clock.priority).value
    if clock.resolved:
        columns["status"] = TicketStatus.RESOLVED.value
    elif clock.paused:
        columns["status"] = TicketStatus.PAUSED.value
    else:
        columns["status"] = TicketStatus.OPEN.value
    if next_due_at is _UNSET:
        running = any(m.running for m in clock.metrics.values())
        next_due_at = clock.now if running else None
    columns["next_due_at"] = next_due_at
    return columns


def set_card(*, session: Session, ticket: Ticket, card_ts: str) -> Ticket:
    """Remember the ts of the bot's card message for this ticket (to chat.update it)."""
    ticket.card_ts = card_ts
    _touch(ticket)
    session.add(ticket)
    session.flush()
    return ticket


def set_card_ts(*, session: Session, ticket_id: int, card_ts: str) -> None:
    """``set_card`` by id in one UPDATE, for a ticket not loaded in this unit of work."""
    session.connection().execute(
        _SET_CARD_TS, {"ticket_id": ticket_id, "card_ts": card_ts, "updated_at": utcnow()}
    )


def set_card_ts_many(*, session: Session, cards: dict[int, str]) -> None:
    """``set_card_ts`` for many tickets (ticket id -> card ts) in one executemany UPDATE."""
    if not cards:
        return
    at = utcnow()
    session.connection().execute(
        _SET_CARD_TS,
        [{"ticket_id": ticket_id, "card_ts": ts, "updated_at": at}
         for ticket_id, ts in cards.items()],
    )


def set_assignee(*, session: Session, ticket: Ticket, assignee_id: str | None) -> Ticket:
    """Assign the ticket (None unassigns)."""
    ticket.assignee_id = assignee_id
    _touch(ticket)
    session.add(ticket)
    session.flush()
    return ticket


def list_open_tickets(
    *,
    session: Session,
    workspace_id: int,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    involving: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """Open and paused tickets, oldest first; with `involving`, only those that person
    asked for or is assigned to (filtered in SQL, before the limit)."""
    conditions = () if involving is None else (
        or_(Ticket.requester_id == involving, Ticket.assignee_id == involving),)
    return _unresolved(session, workspace_id, channel_id, assignee_id, limit, *conditions)


def list_breached_tickets(
    *,
    session: Session,
    workspace_id: int,
    now: datetime,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """Unresolved tickets with a running (or paused) metric already past its target at ``now``,
    oldest first."""
    return _unresolved(session, workspace_id, channel_id, assignee_id, limit,
                       or_(*(_breached_now(p, now) for p in _PREFIXES)))


def list_at_risk_tickets(
    *,
    session: Session,
    workspace_id: int,
    now: datetime,
    channel_id: str | None = None,
    assignee_id: str | None = None,
    horizon: timedelta = timedelta(hours=1),
    at_risk_fraction: float = AT_RISK_FRACTION,
    limit: int = 100,
) -> list[Ticket]:
    """Unresolved, not yet breached tickets with a metric at risk (as ``sla.compliance``
    counts it: at ``at_risk_fraction`` of its target or due within ``horizon``), oldest
    first (``/sla list`` orders them by urgency itself)."""
    return _unresolved(
        session, workspace_id, channel_id, assignee_id, limit,
        *(~_breached_now(p, now) for p in _PREFIXES),
        or_(*(_at_risk(p, now, horizon, at_risk_fraction) for p in _PREFIXES)),
    )


def _unresolved(session: Session, workspace_id: int, channel_id: str | None,
                assignee_id: str | None, limit: int, *conditions) -> list[Ticket]:
    """Unresolved tickets in scope that meet `conditions`, oldest first, at most `limit`."""
    statement = (
        select(Ticket)
        .where(*_scope(workspace_id, channel_id, assignee_id), _not_resolved(), *conditions)
        .order_by(Ticket.created_at, Ticket.id)
        .limit(limit)
    )
    return list(session.exec(statement))


def list_tickets_in_period(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    channel_id: str | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    """Tickets that matter for a report over ``[start, end)``: created before ``end`` and not
    resolved before ``start`` (so every metric stopping or running in the period is there)."""
    statement = (
        select(Ticket)
        .where(
            *_scope(workspace_id, channel_id, None),
            Ticket.created_at < end,
            or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= start),
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


# -- helpers ---------------------------------------------------------------------------------

_PREFIXES: Sequence[str] = tuple(m.value for m in Metric)


def _col(prefix: str, name: str):
    return getattr(Ticket, f"{prefix}_{name}")


def _scope(workspace_id: int, channel_id: str | None, assignee_id: str | None) -> list:
    clauses = [Ticket.workspace_id == workspace_id]
    if channel_id is not None:
        clauses.append(Ticket.channel_id == channel_id)
    if assignee_id is not None:
        clauses.append(Ticket.assignee_id == assignee_id)
    return clauses


def _not_resolved():
    # Written like the partial index's predicate (a literal, not a bound parameter) so that
    # the planner may use ix_tickets_unresolved.
    return text(f"tickets.{UNRESOLVED}")


def _breached_now(prefix: str, now: datetime):
    """A metric still running (or paused) that is past its target at ``now``."""
    return and_(
        _col(prefix, "target_s").is_not(None),
        _col(prefix, "stopped_at").is_(None),
        or_(
            _col(prefix, "breached").is_(True),
            and_(_col(prefix, "due_at").is_not(None), _col(prefix, "due_at") < now),
        ),
    )


def _at_risk(prefix: str, now: datetime, horizon: timedelta, fraction: float):
    running = and_(_col(prefix, "target_s").is_not(None), _col(prefix, "stopped_at").is_(None))
    return and_(
        running,
        or_(
            _col(prefix, "elapsed_s") >= _col(prefix, "target_s") * fraction,
            _col(prefix, "at_risk_at") <= now,
            _col(prefix, "due_at") <= now + horizon,
        ),
    )


_METRIC_FIELDS = ("target_s", "started_at", "due_at", "at_risk_at", "stopped_at", "elapsed_s",
                  "breached")


def _metric_columns(prefix: str, clock, fraction: float) -> dict[str, Any]:
    if clock is None:
        return {f"{prefix}_{name}": None for name in _METRIC_FIELDS}
    at_risk_at = None
    if clock.stopped_at is None and clock.state is not MetricState.PAUSED:
        at_risk_at = clock.instant_at_fraction(fraction)
    return {
        f"{prefix}_target_s": clock.target.total_seconds(),
        f"{prefix}_started_at": clock.started_at,
        f"{prefix}_due_at": clock.due_at,
        f"{prefix}_at_risk_at": at_risk_at,
        f"{prefix}_stopped_at": clock.stopped_at,
        f"{prefix}_elapsed_s": clock.elapsed.total_seconds(),
        f"{prefix}_breached": clock.breached,
    }


def _title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= TITLE_LENGTH:
        return first_line
    return first_line[: TITLE_LENGTH - 1].rstrip() + "…"


def _touch(ticket: Ticket) -> None:
    ticket.version = (ticket.version or 0) + 1
    ticket.updated_at = utcnow()


def add_history_events(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many history rows at once (``ticket_id``, ``kind``, ``at``, ``actor_id``,
    ``priority``, ``note``): importing tickets whose past is known, e.g. the demo's seed."""
    if rows:
        session.connection().execute(
            _INSERT_EVENT, [{**row, "created_at": row.get("created_at") or utcnow()}
                            for row in rows])


_SET_MILESTONES = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(first_response_at=bindparam("b_first_response_at"),
            resolved_at=bindparam("b_resolved_at"))
)


def set_milestones(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Set ``first_response_at`` and ``resolved_at`` of many imported tickets (``ticket_id``,
    ``first_response_at``, ``resolved_at`` per row) in one executemany."""
    if rows:
        session.connection().execute(_SET_MILESTONES, [
            {"ticket_id": row["ticket_id"], "b_first_response_at": row["first_response_at"],
             "b_resolved_at": row["resolved_at"]} for row in rows])
