"""Health of the durable loop: can the database write, and are the inbox and outbox moving?

`/healthz` answers 503 when the database refuses a write (a full disk, a lost server), when
the oldest event waiting in the inbox or the oldest Slack write waiting in the outbox is
older than its threshold (the worker is stuck, or Slack has refused for minutes), or when
the scheduler that runs them is down. The same figures are exported at /metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from commands.deps import Deps
from storage.repositories import inbox as inbox_repo
from storage.repositories import jobs as jobs_repo
from storage.repositories import outbox as outbox_repo

INBOX_STALE = timedelta(minutes=2)
OUTBOX_STALE = timedelta(minutes=5)


def queue_stats(deps: Deps) -> dict[str, float]:
    """Depth and age of the inbox and the outbox (the /metrics gauges)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        inbox = inbox_repo.inbox_stats(session=session)
        outbox = outbox_repo.outbox_stats(session=session)
    return {
        "inbox_pending": inbox.pending,
        "inbox_parked": inbox.parked,
        "inbox_oldest_seconds": _age(now, inbox.oldest_pending_at),
        "outbox_writes_pending": outbox.pending,
        "outbox_writes_failed": outbox.failed,
        "outbox_oldest_seconds": _age(now, outbox.oldest_pending_at),
    }


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def queue_health(deps: Deps, holder: str) -> Callable[[], dict[str, Any]]:
    """The /healthz extension: a committed write, then the queues' figures."""

    def health() -> dict[str, Any]:
        try:
            with deps.unit_of_work() as session:
                jobs_repo.touch_heartbeat(session=session, holder=holder, at=deps.clock.now())
            writable = True
        except Exception as exc:
            writable = False
            write_error = exc.__class__.__name__
        stats = queue_stats(deps)
        inbox_stale = stats["inbox_oldest_seconds"] > INBOX_STALE.total_seconds()
        outbox_stale = stats["outbox_oldest_seconds"] > OUTBOX_STALE.total_seconds()
        found: dict[str, Any] = {
            "ok": writable and not inbox_stale and not outbox_stale,
            "database_writes": "ok" if writable else f"refused ({write_error})",
            "inbox": {"pending": int(stats["inbox_pending"]),
                      "parked": int(stats["inbox_parked"]),
                      "oldest_seconds": round(stats["inbox_oldest_seconds"], 1),
                      "stale": inbox_stale},
            "outbox": {"pending": int(stats["outbox_writes_pending"]),
                       "failed": int(stats["outbox_writes_failed"]),
                       "oldest_seconds": round(stats["outbox_oldest_seconds"], 1),
                       "stale": outbox_stale},
        }
        return found

    return health
