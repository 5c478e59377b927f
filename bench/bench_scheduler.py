"""Benchmark the nudge scheduler: 1,000,000 open tickets, the real bot, the fake Slack.

Run: ``python bench/bench_scheduler.py`` (SQLite, the issue's million tickets: loading them
takes a few minutes), ``--tickets 20000`` for a quick run, ``--database-url
postgresql://postgres@127.0.0.1:5432/test`` for PostgreSQL (a fresh schema is created and
dropped).

Workload: one workspace, a 24x7 policy (P2: first response 1 h, nudges at 50%/80%/breach),
``--tickets`` open tickets written with bulk inserts. Their deadlines are staggered:
``--overdue`` tickets already passed a threshold before the bot starts (sent late, they
time the start-up), ``--rate`` tickets per second reach their 50% threshold during a
``--window`` of seconds (the steady stream whose lateness is measured), ``--burst`` tickets
reach it at one same instant after the window (sender throughput), and the rest are hours
away. The bot is ``python -m bot.cli run`` in a subprocess against a fake Slack Web API in
this process, which stamps the arrival time of each message.

Measured: lateness of each steady nudge (arrival at Slack minus planned instant), the
sender's nudges/s in the burst, the bot's peak RSS, time from process start to the first
claim. Peer, measured in the same run on the same database: finding due work the naive way
(load every open ticket with its events and compute its clock in Python, as a polling loop
without ``next_due_at`` would) against the planner's indexed claim.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.sandbox.slack_api import FakeSlack  # noqa: E402
from sla.calendar import BusinessCalendar  # noqa: E402
from sla.clock import compute_clock  # noqa: E402
from sla.policy import Policy  # noqa: E402
from storage import migrate  # noqa: E402
from storage import repositories as repo  # noqa: E402
from storage.db import make_engine, unit_of_work  # noqa: E402
from storage.mappers import clock_events  # noqa: E402
from storage.models import Nudge, Ticket, TicketEvent  # noqa: E402
from storage.repositories import nudges as outbox  # noqa: E402

TOKEN = "xoxb-bench"
SECRET = "bench-secret"
TEAM = "TBENCH"
CHANNEL = "CBENCH"
FIRST_RESPONSE = timedelta(hours=1)
HALF = FIRST_RESPONSE / 2
BATCH = 20_000
GOALS = {"p99 lateness (s)": 1.0, "peak RSS (MB)": 300.0, "start to first claim (s)": 5.0}


class TimedFake(FakeSlack):
    """The fake Slack, stamping when each call arrived."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.arrivals: list[tuple[float, str, dict]] = []
        self._arrival_lock = threading.Lock()

    def _record(self, call) -> None:
        stamp = time.time()
        with self._arrival_lock:
            self.arrivals.append((stamp, call.method, call.params))
        # Keep memory flat: the bench reads arrivals, not the call log.

    def posted_markers(self) -> dict[int, float]:
        """Nudge id -> arrival time of its (first) successful thread post."""
        found: dict[int, float] = {}
        with self._arrival_lock:
            arrivals = list(self.arrivals)
        for stamp, method, params in arrivals:
            if method != "chat.postMessage":
                continue
            blocks = _as_text(params.get("blocks"))
            if "slabot-nudge:" in blocks:
                nudge_id = int(blocks.split("slabot-nudge:", 1)[1].split(":", 1)[0])
                found.setdefault(nudge_id, stamp)
        return found

    def duplicates(self) -> int:
        """Nudge posts beyond the first per marker (must be 0)."""
        seen: dict[str, int] = {}
        with self._arrival_lock:
            arrivals = list(self.arrivals)
        for _stamp, method, params in arrivals:
            blocks = params.get("blocks")
            if (
                method == "chat.postMessage"
                and isinstance(blocks, str)
                and "slabot-nudge:" in (blocks)
            ):
                marker = blocks.split('"block_id": "', 1)[-1].split('"', 1)[0]
                seen[marker] = seen.get(marker, 0) + 1
        return sum(n - 1 for n in seen.values())


def _as_text(blocks) -> str:
    """Blocks as JSON text (slack_sdk sends JSON bodies; form posts carry a string)."""
    if blocks is None:
        return ""
    return blocks if isinstance(blocks, str) else json.dumps(blocks)


def prepare_database(url: str) -> str:
    """A migrated, empty database; PostgreSQL gets a schema of its own."""
    if url.startswith("postgres"):
        schema = f"bench_sched_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    return url


def plan_groups(args) -> dict[str, list[int]]:
    """Ticket numbers per group: overdue, steady stream, burst, and the many far-off ones."""
    steady = int(args.rate * args.window)
    bounds = {"overdue": args.overdue, "steady": steady, "burst": args.burst}
    groups: dict[str, list[int]] = {}
    first = 1
    for name, count in bounds.items():
        groups[name] = list(range(first, first + count))
        first += count
    groups["later"] = list(range(first, args.tickets + 1))
    return groups


def set_up_workspace(engine, args) -> int:
    """Workspace, tracked channel and the 24x7 policy; returns the workspace id."""
    policy = Policy.default(BusinessCalendar.always())
    with unit_of_work(engine) as session:
        ws = repo.get_or_create_workspace(session=session, team_id=TEAM)
        repo.track_channel(session=session, workspace_id=ws.id, channel_id=CHANNEL)
        repo.save_policy(session=session, workspace_id=ws.id, policy=policy, channel_id=CHANNEL)
        ws.next_ticket_number = args.tickets + 1
        session.add(ws)
        return ws.id


def insert_tickets(
    engine, workspace_id: int, numbers: list[int], group: str, args, start: datetime
) -> None:
    """Bulk-insert tickets of one group, their deadlines placed relative to `start`."""
    window_start = start + timedelta(seconds=args.lead)
    burst_at = window_start + timedelta(seconds=args.window + 5)
    now = datetime.now(UTC)
    # Rows are built and written a batch at a time, so a million tickets fit in memory.
    for first in range(0, len(numbers), BATCH):
        _insert_batch(engine, workspace_id, numbers, first, group, args, start, window_start,
                      burst_at, now)


def _insert_batch(engine, workspace_id: int, numbers: list[int], first: int, group: str, args,
                  start: datetime, window_start: datetime, burst_at: datetime,
                  now: datetime) -> None:
    tickets, events = [], []
    for index in range(first, min(first + BATCH, len(numbers))):
        n = numbers[index]
        priority, target = "P2", FIRST_RESPONSE
        if group == "overdue":
            half_at = start - timedelta(seconds=30)
        elif group == "steady":
            half_at = window_start + timedelta(seconds=index / args.rate)
        elif group == "burst":
            half_at = burst_at
        else:
            # P4 (first response 8 h): opened up to 3 h ago, half-way 1-4 h from now.
            priority, target = "P4", timedelta(hours=8)
            half_at = start + timedelta(hours=1, seconds=n % 10_800)
        created = half_at - target / 2
        resolution = target * 5 if priority == "P4" else timedelta(hours=8)
        tickets.append(
            {
                "id": n,
                "workspace_id": workspace_id,
                "number": n,
                "key": f"SLA-{n}",
                "channel_id": CHANNEL,
                "message_ts": f"{1_700_000_000 + n}.000100",
                "thread_ts": f"{1_700_000_000 + n}.000100",
                "requester_id": "UREQ",
                "priority": priority,
                "status": "open",
                "title": f"request {n}",
                "text": "help",
                "source": "message",
                "created_at": created,
                "first_response_target_s": int(target.total_seconds()),
                "first_response_due_at": created + target,
                "resolution_target_s": int(resolution.total_seconds()),
                "resolution_due_at": created + resolution,
                "next_due_at": half_at,
                "version": 1,
                "updated_at": now,
            }
        )
        events.append(
            {
                "ticket_id": n,
                "kind": "created",
                "at": created,
                "priority": priority,
                "created_at": now,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(Ticket.__table__), tickets)
        connection.execute(insert(TicketEvent.__table__), events)


def finish_load(engine, args) -> None:
    """Sequence and statistics, as after any bulk load."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('tickets_id_seq', :n)"), {"n": args.tickets})
        connection.execute(text("ANALYZE"))


class RssWatch(threading.Thread):
    """Samples a process's resident set size; the peak is VmHWM when it can be read."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def _read(self, field: str) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, self._read("VmHWM:"), self._read("VmRSS:"))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def naive_scan_seconds(engine, sample: int) -> tuple[float, int]:
    """Seconds to find due work by loading open tickets + events and computing clocks."""
    policy = Policy.default(BusinessCalendar.always())
    now = datetime.now(UTC)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        tickets = (
            session.execute(
                select(Ticket).where(Ticket.status == "open").order_by(Ticket.id).limit(sample)
            )
            .scalars()
            .all()
        )
        ids = [t.id for t in tickets]
        history: dict[int, list] = {}
        for row in session.execute(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).order_by(TicketEvent.id)
        ).scalars():
            history.setdefault(row.ticket_id, []).append(row)
    due = 0
    for rows in history.values():
        clock = compute_clock(clock_events(rows), policy, now)
        if clock.next_event_at is None or clock.next_event_at <= now:
            due += 1
    return time.perf_counter() - started, len(ids)


def indexed_claim_seconds(engine, repeats: int = 20) -> float:
    """Median seconds of the planner's claim when nothing is due (the common case)."""
    timings = []
    past = datetime(2000, 1, 1, tzinfo=UTC)
    for _ in range(repeats):
        started = time.perf_counter()
        with unit_of_work(engine) as session:
            outbox.claim_due_nudges(session=session, now=past, holder="bench-probe", limit=200)
            outbox.next_ticket_due_at(session=session)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run(args) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sched-"))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file of a million tickets is big


def _run(args, tmp: Path) -> int:
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    url = prepare_database(url)
    engine = make_engine(url)
    fake = TimedFake(TOKEN).start()
    print(f"engine: {engine.dialect.name}; tickets: {args.tickets:,}")
    started = time.perf_counter()
    groups = plan_groups(args)
    workspace_id = set_up_workspace(engine, args)
    # The far-off bulk first (its deadlines are hours away, load time does not matter)...
    insert_tickets(engine, workspace_id, groups["later"], "later", args, datetime.now(UTC))
    finish_load(engine, args)
    load_s = time.perf_counter() - started
    # Peer on the bulk, before the bot runs.
    naive_s, naive_n = naive_scan_seconds(engine, min(args.naive_sample, args.tickets))
    naive_full = naive_s * args.tickets / naive_n
    claim_s = indexed_claim_seconds(engine)
    # ...then the time-sensitive tickets, placed relative to the bot's start just below.
    start = datetime.now(UTC)
    for name in ("overdue", "steady", "burst"):
        insert_tickets(engine, workspace_id, groups[name], name, args, start)
    print(
        f"generated {args.tickets:,} open tickets in {load_s:.1f} s "
        f"(overdue {len(groups['overdue'])}, steady {len(groups['steady'])} at "
        f"{args.rate}/s, burst {len(groups['burst'])}, later {len(groups['later'])})"
    )

    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": url,
        "PORT": str(args.port),
        "LOG_LEVEL": "WARNING",
        "SLABOT_INSTANCE_ID": "bench",
    }
    log_path = tmp / "bot.log"
    spawned = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    rss = RssWatch(proc.pid)
    rss.start()
    try:
        first_claim = None
        while first_claim is None and time.time() - spawned < 120:
            if proc.poll() is not None:
                print(log_path.read_text()[-3000:])
                return 1
            with unit_of_work(engine) as session:
                if session.execute(select(func.count()).select_from(Nudge)).scalar_one():
                    first_claim = time.time() - spawned
            time.sleep(0.01)
        expected = len(groups["overdue"]) + len(groups["steady"]) + len(groups["burst"])
        deadline = time.time() + args.lead + args.window + 5 + args.drain
        while len(fake.posted_markers()) < expected and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        healthy = _health(args.port)
    finally:
        rss.stop.set()
        rss.join(1)
        proc.terminate()
        proc.wait(20)
        fake.stop()

    posted = fake.posted_markers()
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(Nudge.id, Nudge.ticket_id, Nudge.planned_at, Nudge.late)
        ).all()
    by_ticket = {r.ticket_id: r for r in rows}
    steady = [
        posted[by_ticket[t].id] - by_ticket[t].planned_at.timestamp()
        for t in groups["steady"]
        if t in by_ticket and by_ticket[t].id in posted
    ]
    burst_times = sorted(
        posted[by_ticket[t].id]
        for t in groups["burst"]
        if t in by_ticket and by_ticket[t].id in posted
    )
    lost = expected - len(posted)
    print(
        f"nudges expected {expected:,}, posted {len(posted):,}, duplicates "
        f"{fake.duplicates()}, missing {lost}"
    )
    results: dict[str, float] = {}
    if steady:
        results["p99 lateness (s)"] = percentile(steady, 99)
        print(
            f"steady lateness over {len(steady):,} nudges: p50 {percentile(steady, 50):.3f} s, "
            f"p99 {percentile(steady, 99):.3f} s, max {max(steady):.3f} s"
        )
    if len(burst_times) > 1:
        burst_rate = len(burst_times) / max(burst_times[-1] - burst_times[0], 1e-6)
        print(
            f"burst: {len(burst_times):,} nudges due at one instant, sender sustained "
            f"{burst_rate:,.0f} nudges/s (last one {burst_times[-1] - burst_times[0]:.1f} s "
            "after the first)"
        )
    results["peak RSS (MB)"] = rss.peak_kb / 1024
    results["start to first claim (s)"] = first_claim if first_claim is not None else float("inf")
    print(
        f"bot peak RSS {results['peak RSS (MB)']:.0f} MB; start to first claim "
        f"{results['start to first claim (s)']:.2f} s; /healthz: {healthy}"
    )
    print(
        f"peer: naive scan (load open tickets + events, compute clocks) {naive_full:.2f} s "
        f"per sweep at {args.tickets:,} (measured {naive_s:.2f} s on {naive_n:,}); indexed "
        f"claim + next-due query {claim_s * 1000:.2f} ms: ratio {naive_full / claim_s:,.0f}x"
    )
    ok = lost == 0 and fake.duplicates() == 0
    for name, goal in GOALS.items():
        value = results.get(name)
        met = value is not None and value < goal
        ok = ok and met
        print(f"goal {name} < {goal}: {'met' if met else 'MISSED'} ({value})")
    engine.dispose()
    if "search_path%3Dbench_sched_" in url:
        schema = url.rsplit("search_path%3D", 1)[1]
        admin = make_engine(args.database_url)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0 if ok else 1


def _health(port: int) -> str:
    try:
        with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.read().decode()[:300]
    except (URLError, OSError) as exc:
        return f"unreachable ({exc})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="steady nudges per second")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of steady stream")
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument(
        "--lead", type=float, default=15.0, help="seconds from bot start to the steady stream"
    )
    parser.add_argument("--drain", type=float, default=120.0)
    parser.add_argument("--naive-sample", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=3977)
    parser.add_argument("--database-url", default=None)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
