"""`slabot rollups rebuild`: recount the daily rollups from the tickets.

Rollups stay current by themselves with every ticket change; rebuild them after tickets were
written around the bot (an import, a restore, a hand-made fix). Each workspace is recounted in
one transaction: the compliance rollups from the tickets' stored columns, the responder
figures by replaying each ticket's history under its channel's policy now. Afterwards the
planner statistics of the tickets and the rollups are refreshed (on PostgreSQL with VACUUM
(ANALYZE), which also lets index-only scans skip the table), so a freshly imported database
is fast at once instead of after autovacuum's turn.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

EXIT_USAGE = 2
HELP = "rebuild the daily rollups from the tickets (after an import)"
_TABLES = ("tickets", "metric_rollups", "workspace_rollups", "ticket_rollups",
           "responder_facts", "responder_rollups")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `slabot rollups`."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="action")
    rebuild = actions.add_parser("rebuild", help="recount every workspace's daily rollups "
                                 "from its tickets", description=__doc__.split("\n\n")[1])
    rebuild.add_argument("--team", metavar="T", help="only the workspace of this Slack team id")
    rebuild.add_argument("--database-url", help="default: DATABASE_URL or sqlite:///slabot.db")


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Rebuild the rollups; exit code 2 with one clear line when there is nothing to do."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.cli import load_database_url
    from storage.db import make_engine, unit_of_work, vacuum_analyze
    from storage.migrate import current_revision
    from storage.repositories import responder_rollups, rollups
    from storage.repositories.workspaces import list_workspaces

    out = out or sys.stdout
    url = args.database_url or load_database_url()
    try:
        revision = current_revision(url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _fail(f"cannot open the database: {reason}")
    if revision is None:
        return _fail("the database has no tables yet: run `slabot migrate` first")
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            teams = {w.team_id: w.id for w in list_workspaces(session=session)
                     if w.id is not None and args.team in (None, w.team_id)}
        if args.team and not teams:
            return _fail(f"no workspace with team id {args.team}")
        for team, workspace_id in teams.items():
            began = time.perf_counter()
            with unit_of_work(engine) as session:
                count = rollups.rebuild(session.connection(), workspace_id)
                responder_rollups.rebuild(session, workspace_id)
            out.write(f"{team}: rollups of {count} tickets rebuilt in "
                      f"{time.perf_counter() - began:.1f} s\n")
        vacuum_analyze(engine, _TABLES)
    finally:
        engine.dispose()
    return 0


def _fail(message: str) -> int:
    print(f"slabot rollups: {message}", file=sys.stderr)
    return EXIT_USAGE
