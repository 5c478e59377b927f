"""How the nudge sender claims and retries outbox rows, and what one pass did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.retry import backoff

DEFAULT_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class SenderOptions:
    """How the sender claims and retries outbox rows."""

    holder: str
    lease: timedelta = DEFAULT_LEASE
    batch: int = 50
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=5)
    workers: int = 4

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        """When a failed attempt is tried again: exponential backoff, capped."""
        return now + backoff(self.backoff, attempts, self.max_backoff)


@dataclass
class SendReport:
    """What one sender pass did (for logs, metrics and tests)."""

    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0

    @property
    def claimed(self) -> int:
        """Rows this pass took from the outbox."""
        return self.sent + self.cancelled + self.retried + self.failed + self.lost_lease

    def add(self, other: SendReport) -> None:
        """Fold another pass's counts into this one."""
        self.sent += other.sent
        self.cancelled += other.cancelled
        self.retried += other.retried
        self.failed += other.failed
        self.lost_lease += other.lost_lease
