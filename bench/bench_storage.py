"""Benchmark the `/sla status` compliance aggregate in SQLite at a million tickets.

Run: ``python bench/bench_storage.py`` (full size) or ``--tickets 20000`` for a quick run;
``--keep PATH`` leaves the database behind (for the HTTP benchmark).

Workload: one workspace, ``--channels`` channels, ``--tickets`` resolved tickets created over
``--days`` days and ``--open`` open ones from the last ten days, written with raw
``executemany`` in large transactions into a schema made by the real migrations (indexes
built after the load, then ``ANALYZE``, then the daily rollups rebuilt as after an import).
Timed: ``storage.repositories.compliance_counts`` (the aggregate `/sla status` shows, read
from the rollups, trend against the previous period included) for one
channel and for the whole workspace over 7 and 30 days. Peer, measured in the same run:
the same numbers computed the way a report without SQL aggregates would, loading the
period's tickets through the ORM into ``sla.compliance.summarize``; both answers are
compared for equality before any figure is printed.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import SQLModel

from sla.compliance import summarize
from storage import migrate
from storage import repositories as repo
from storage.db import make_engine, unit_of_work
from storage.mappers import metric_outcomes
from storage.repositories import responder_rollups, rollups

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TARGETS = {  # first response, resolution (seconds), as Policy.default()
    "P1": (15 * 60, 4 * 3600),
    "P2": (3600, 8 * 3600),
    "P3": (4 * 3600, 24 * 3600),
    "P4": (8 * 3600, 40 * 3600),
}
PRIORITY_WEIGHTS = (("P1", 5), ("P2", 20), ("P3", 60), ("P4", 15))
GOALS_MS = {"channel": 50.0, "workspace": 200.0}
BATCH = 50_000
AGENTS = [f"UAGENT{n:02d}" for n in range(30)]  # who answers, takes and resolves tickets
EVENT_COLUMNS = ("ticket_id", "kind", "at", "actor_id", "priority", "note", "created_at")
COLUMNS = (
    "workspace_id", "number", "key", "channel_id", "message_ts", "thread_ts", "requester_id",
    "assignee_id", "priority", "status", "title", "text", "source", "created_at",
    "first_response_at", "resolved_at",
    "first_response_target_s", "first_response_started_at", "first_response_due_at",
    "first_response_at_risk_at", "first_response_stopped_at", "first_response_elapsed_s",
    "first_response_breached",
    "resolution_target_s", "resolution_started_at", "resolution_due_at",
    "resolution_at_risk_at", "resolution_stopped_at", "resolution_elapsed_s",
    "resolution_breached",
    "next_due_at", "version", "updated_at",
)


def stamp(at: datetime | None) -> str | None:
    """An instant exactly as ``UTCDateTime`` stores it in SQLite (naive UTC text)."""
    if at is None:
        return None
    return f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond:06d}"


def ticket_rows(rng: random.Random, args, workspace_id: int):
    """Yield tuples for ``COLUMNS``: resolved tickets over ``days``, then the open ones."""
    for row, _events in ticket_histories(rng, args, workspace_id):
        yield row


def ticket_histories(rng: random.Random, args, workspace_id: int):
    """Yield (tuple for ``COLUMNS``, tuples for ``EVENT_COLUMNS``) per ticket, numbered from 1
    (the ids of a fresh table): created; assigned to one of ``AGENTS`` (70%, else the first
    responder takes it, as the bot does); responded by one of them; resolved (reopened and
    resolved again for 3%) by the assignee or a colleague."""
    priorities = [p for p, w in PRIORITY_WEIGHTS for _ in range(w)]
    channels = [f"C{n:04d}" for n in range(args.channels)]
    history = args.days * 86400
    total = args.tickets + args.open
    for number in range(1, total + 1):
        resolved = number <= args.tickets
        priority = rng.choice(priorities)
        fr_target, res_target = TARGETS[priority]
        if resolved:
            created = NOW - timedelta(seconds=rng.randrange(3600, history))
        else:
            created = NOW - timedelta(seconds=rng.randrange(600, 10 * 86400))
        # Business time runs at half the wall clock here (nights, weekends), and elapsed is
        # drawn around the target so that roughly one metric in six breaches.
        fr_elapsed = round(rng.expovariate(1 / (fr_target * 0.55)))
        fr_stop = created + timedelta(seconds=fr_elapsed * 2)
        res_elapsed = max(round(rng.expovariate(1 / (res_target * 0.55))), fr_elapsed)
        res_stop = created + timedelta(seconds=res_elapsed * 2)
        responded = resolved or fr_stop < NOW
        fr_due = created + timedelta(seconds=fr_target * 2)
        res_due = created + timedelta(seconds=res_target * 2)
        so_far = int((NOW - created).total_seconds() / 2)  # a running metric, measured at NOW
        if not responded:
            fr_elapsed = so_far
        if not resolved:
            res_elapsed = so_far
        ts = f"{int(created.timestamp())}.{number:06d}"  # unique, like Slack's ts
        requester = f"U{rng.randrange(5000):05d}"
        events, assignee = _events(rng, number, requester, priority, created,
                                   fr_stop if responded else None,
                                   res_stop if resolved else None)
        yield (
            workspace_id, number, f"SLA-{number}", rng.choice(channels), ts, ts,
            requester, assignee, priority, "resolved" if resolved else "open",
            "Printer on fire", "", "message", stamp(created),
            stamp(fr_stop) if responded else None, stamp(res_stop) if resolved else None,
            float(fr_target), stamp(created), stamp(fr_due),
            None if responded else stamp(created + timedelta(seconds=fr_target * 1.6)),
            stamp(fr_stop) if responded else None, float(fr_elapsed),
            int(fr_elapsed > fr_target),
            float(res_target), stamp(created), stamp(res_due),
            None if resolved else stamp(created + timedelta(seconds=res_target * 1.6)),
            stamp(res_stop) if resolved else None, float(res_elapsed),
            int(res_elapsed > res_target),
            None if resolved else stamp(NOW + timedelta(minutes=rng.randrange(1, 600))),
            1, stamp(NOW),
        ), events


def _events(rng: random.Random, number: int, requester: str, priority: str,
            created: datetime, responded: datetime | None, resolved: datetime | None
            ) -> tuple[list[tuple], str | None]:
    """One ticket's history as ``EVENT_COLUMNS`` tuples, and who has it in the end."""
    written = stamp(NOW)

    def event(kind, at, actor, note=None, priority=None):
        return (number, kind, stamp(at), actor, priority, note, written)

    found = [event("created", created, requester, priority=priority)]
    assignee = rng.choice(AGENTS) if rng.random() < 0.7 else None
    if assignee is not None:
        found.append(event("assigned", created + timedelta(seconds=rng.randrange(30, 900)),
                           rng.choice(AGENTS), note=assignee))
    if responded is not None:
        responder = rng.choice(AGENTS)
        found.append(event("responded", responded, responder))
        if assignee is None:
            assignee = responder
            found.append(event("assigned", responded, responder, note=responder))
    if resolved is not None:
        resolver = assignee if rng.random() < 0.8 else rng.choice(AGENTS)
        if responded is not None and rng.random() < 0.03:  # "still broken": back, then solved
            span = resolved - responded
            found += [event("resolved", responded + span / 2, resolver),
                      event("reopened", responded + span * 3 / 4, requester)]
        found.append(event("resolved", resolved, resolver))
    return found, assignee


def generate(path: Path, args, *, history: bool = False) -> tuple[int, float, float]:
    """Create the schema with the migrations and load the tickets (with ``history``, their
    events too), then count them into the daily rollups as an import would (``slabot rollups
    rebuild``, the responder rollups replayed from the histories); returns (workspace id,
    seconds writing rows, seconds in all)."""
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        workspace_id = repo.get_or_create_workspace(session=session, team_id="TBENCH").id
    engine.dispose()

    began = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    indexes = [*SQLModel.metadata.tables["tickets"].indexes,
               *SQLModel.metadata.tables["ticket_events"].indexes]
    for index in indexes:  # built once after the load: far faster than row by row
        db.execute(f'DROP INDEX "{index.name}"')
    insert = (f"INSERT INTO tickets ({', '.join(COLUMNS)}) "
              f"VALUES ({', '.join('?' for _ in COLUMNS)})")
    insert_events = (f"INSERT INTO ticket_events ({', '.join(EVENT_COLUMNS)}) "
                     f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})")
    rows = ticket_histories(random.Random(args.seed), args, workspace_id)
    while True:
        batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
        if not batch:
            break
        db.execute("BEGIN")
        db.executemany(insert, [ticket for ticket, _events in batch])
        if history:
            db.executemany(insert_events, [e for _ticket, events in batch for e in events])
        db.execute("COMMIT")
    _check_ids(db, args)
    db.execute(
        "UPDATE workspaces SET next_ticket_number = ? WHERE id = ?",
        (args.tickets + args.open + 1, workspace_id),
    )
    loaded = time.perf_counter() - began
    db.close()
    engine = make_engine(url)
    with engine.begin() as connection:
        for index in indexes:
            index.create(connection)
        connection.exec_driver_sql("ANALYZE")
    with unit_of_work(engine) as session:
        rollups.rebuild(session.connection(), workspace_id)
    if history:
        rebuilt = time.perf_counter()
        with unit_of_work(engine) as session:
            responder_rollups.rebuild(session, workspace_id)
        print(f"  responder rollups rebuilt from the histories in "
              f"{time.perf_counter() - rebuilt:.1f} s", flush=True)
    engine.dispose()
    return workspace_id, loaded, time.perf_counter() - began


def _check_ids(db, args) -> None:
    """Events name their ticket by its number: the ids of a fresh table must be those."""
    first, last = db.execute("SELECT min(id), max(id) FROM tickets").fetchone()
    assert (first, last) == (1, args.tickets + args.open), (first, last)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def sql_summary(engine, workspace_id, channel, days):
    with unit_of_work(engine) as session:
        return repo.compliance_counts(
            session=session, workspace_id=workspace_id, channel_id=channel,
            start=NOW - timedelta(days=days), end=NOW, now=NOW,
        )


def python_summary(engine, workspace_id, channel, days):
    start = NOW - timedelta(days=days)
    with unit_of_work(engine) as session:
        rows = repo.list_tickets_in_period(session=session, workspace_id=workspace_id,
                                           channel_id=channel, start=start - (NOW - start),
                                           end=NOW)
        outcomes = [o for row in rows for o in metric_outcomes(row)]
    return summarize(outcomes, start, NOW, NOW), len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="resolved tickets")
    parser.add_argument("--open", type=int, default=None, help="open tickets (tickets/100)")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--days", type=int, default=365, help="history the tickets span")
    parser.add_argument("--runs", type=int, default=40, help="timed runs per aggregate")
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=Path, default=None, help="leave the database here")
    parser.add_argument("--reuse", action="store_true",
                        help="time the database already at --keep instead of generating it")
    args = parser.parse_args()
    if args.open is None:
        args.open = max(args.tickets // 100, 1)

    workdir = tempfile.TemporaryDirectory(prefix="slabot-bench-")
    path = args.keep or Path(workdir.name) / "bench.db"
    if args.reuse:
        if args.keep is None or not path.exists():
            raise SystemExit("--reuse needs --keep PATH of a database this benchmark made")
        workspace_id = 1
        print(f"reusing {path} (made with the same --tickets/--channels/--days/--seed)")
    else:
        if path.exists():
            raise SystemExit(f"{path} exists: remove it, pick another --keep path or --reuse")
        print(f"generating {args.tickets:,} resolved + {args.open:,} open tickets over "
              f"{args.days} days in {args.channels} channels ...", flush=True)
        workspace_id, loaded, total = generate(path, args)
        print(f"  rows written in {loaded:.1f} s; with indexes, ANALYZE and rollups {total:.1f} s "
              f"({(args.tickets + args.open) / total:,.0f} tickets/s overall)")
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(f"  database size {size / 2**20:,.0f} MiB ({path})")

    engine = make_engine(f"sqlite:///{path}")
    channels = [f"C{n:04d}" for n in range(args.channels)]
    rng = random.Random(args.seed)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n/sla status aggregate (compliance_counts, with trend), {args.runs} runs each "
          f"(load average {load} on {os.cpu_count()} CPUs):")
    print(f"{'scope':<10} {'period':>6} {'p50 ms':>9} {'p95 ms':>9} {'goal ms':>8}  "
          f"{'metrics counted':>15}")
    failed = False
    results = {}
    for scope in ("channel", "workspace"):
        for days in (7, 30):
            timings = []
            for run in range(args.runs + 2):
                channel = rng.choice(channels) if scope == "channel" else None
                began = time.perf_counter()
                summary = sql_summary(engine, workspace_id, channel, days)
                elapsed = (time.perf_counter() - began) * 1000
                if run >= 2:  # the first runs warm the page cache
                    timings.append(elapsed)
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            results[(scope, days)] = p50
            ok = p95 < GOALS_MS[scope]
            failed |= not ok
            print(f"{scope:<10} {days:>5}d {p50:>9.1f} {p95:>9.1f} {GOALS_MS[scope]:>8.0f}  "
                  f"{summary.overall.counted + summary.overall.open:>15,}"
                  f"{'' if ok else '  <- over goal'}")

    print(f"\npeer: the same numbers by loading the period's tickets into sla.compliance "
          f"({args.peer_runs} runs, best):")
    for scope, days in (("channel", 7), ("channel", 30), ("workspace", 7)):
        channel = channels[0] if scope == "channel" else None
        best, loaded_rows = float("inf"), 0
        for _ in range(args.peer_runs):
            began = time.perf_counter()
            from_python, loaded_rows = python_summary(engine, workspace_id, channel, days)
            best = min(best, (time.perf_counter() - began) * 1000)
        from_sql = sql_summary(engine, workspace_id, channel, days)
        if from_sql != from_python:
            print(f"MISMATCH for {scope} {days}d:\n  sql    {from_sql}\n  python {from_python}")
            return 1
        sql_ms = statistics.median(
            _timed(lambda c=channel, d=days: sql_summary(engine, workspace_id, c, d))
            for _ in range(5)
        )
        print(f"{scope:<10} {days:>5}d  python {best:>8.1f} ms over {loaded_rows:>7,} tickets"
              f"  sql {sql_ms:>6.1f} ms  -> SQL is {best / sql_ms:,.0f}x faster (same answer)")
    engine.dispose()
    if args.keep is None:
        workdir.cleanup()
    print("\nall goals met" if not failed else "\nSOME GOALS MISSED")
    return 1 if failed else 0


def _timed(run) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


if __name__ == "__main__":
    raise SystemExit(main())
