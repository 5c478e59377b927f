"""Benchmark the portal's pages over HTTP on a generated history (SQLite).

Run: ``python bench/bench_portal.py`` (20,000 resolved + 200 open tickets) or
``--tickets 100000``. The database is made by bench_storage's generator (real migrations,
raw inserts, indexes and ANALYZE after the load); the bot serves the portal against the fake
Slack in this process; an admin signs in through the fake's Sign in with Slack, and a share
link is made with `/sla portal share`. Timed: each page (and the overview's CSV) over HTTP,
``--runs`` times after one warm-up, p50 and p95; and, for reference, the ticket-scanning
workspace aggregate of `/sla status` over 90 days.

There is no rollup peer yet: the pages read tickets the way `/sla report` does (daily
rollups are the issue's "Speed" part and not built), so these figures are the baseline.
"""

from __future__ import annotations

import argparse
import logging
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_storage import NOW, generate
from bot.sandbox.slack_api import TEAM_ID, FakeSlack
from storage import repositories as repo
from storage.db import make_engine, unit_of_work
from tests.clocks import FixedClock
from tests.e2e.conftest import stop_bot
from tests.e2e.portal_helpers import Browser, portal_bot
from tests.e2e.verbs_helpers import ask

ADMIN = "UADMIN"
GOAL_MS = 300.0  # the target for a portal page at p95


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000, help="resolved tickets")
    parser.add_argument("--open", type=int, default=None, help="open tickets (tickets/100)")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.open is None:
        args.open = max(args.tickets // 100, 1)
    logging.basicConfig(level=logging.ERROR)

    workdir = tempfile.TemporaryDirectory(prefix="slabot-portal-bench-")
    path = Path(workdir.name) / "bench.db"
    print(f"generating {args.tickets:,} resolved + {args.open:,} open tickets over "
          f"{args.days} days in {args.channels} channels ...", flush=True)
    workspace_id, _loaded, total = generate(path, args)
    print(f"  ready in {total:.1f} s", flush=True)
    db = sqlite3.connect(path)
    db.execute("UPDATE workspaces SET team_id = ? WHERE id = ?", (TEAM_ID, workspace_id))
    db.commit()
    db.close()

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    clock = FixedClock(NOW)
    with FakeSlack(token="xoxb-e2e-token") as fake:
        fake.add_user(ADMIN, name="ada", is_admin=True, tz="UTC")
        for n in range(args.channels):
            fake.add_channel(f"C{n:04d}", name=f"support-{n}", members=[ADMIN])
        bot = portal_bot(url, engine, fake, clock)
        try:
            browser = Browser(bot.url)
            fake.sign_in_as(ADMIN, name="ada")
            assert browser.get("/portal/auth/login").status == 200
            answer = ask(bot, "portal share <#C0001|support-1>", channel="C0001")
            share = "/portal/s/" + answer.text.split("/portal/s/", 1)[1].split()[0]
            pages = {
                "overview 30d": "/portal/overview?period=30d",
                "overview 90d": "/portal/overview?period=90d",
                "channel 30d": "/portal/c/C0001?period=30d",
                "responders 30d": "/portal/responders?period=30d",
                "share link 30d": share + "?period=30d",
                "overview CSV 30d": "/portal/overview.csv?period=30d",
            }
            print(f"\n{'page':<18}{'p50 ms':>10}{'p95 ms':>10}   (goal p95 < {GOAL_MS:.0f} ms)")
            for name, page in pages.items():
                assert browser.get(page).status == 200, page  # warm-up (caches, imports)
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    result = browser.get(page)
                    times.append((time.perf_counter() - started) * 1000)
                    assert result.status == 200
                print(f"{name:<18}{statistics.median(times):>10.0f}"
                      f"{percentile(times, 95):>10.0f}", flush=True)
            scan = []
            for _ in range(args.runs):
                started = time.perf_counter()
                with unit_of_work(engine) as session:
                    repo.compliance_counts(session=session, workspace_id=workspace_id,
                                           channel_id=None, start=NOW - timedelta(days=90),
                                           end=NOW, now=NOW)
                scan.append((time.perf_counter() - started) * 1000)
            print(f"\nworkspace 90-day aggregate (ticket scan, /sla status): "
                  f"p50 {statistics.median(scan):.0f} ms, p95 {percentile(scan, 95):.0f} ms")
            print("no rollup peer: daily rollups are not built yet")
        finally:
            stop_bot(bot)
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
