"""A clock tests set and move by hand (the bot's `Clock` seam, without the wall clock)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FixedClock:
    """A clock tests set and move by hand; thread-safe because listeners run on a pool."""

    def __init__(self, start: datetime) -> None:
        _require_aware(start)
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant last set."""
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        """Jump to `at` (aware)."""
        _require_aware(at)
        with self._lock:
            self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new instant."""
        with self._lock:
            self._now += delta
            return self._now


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"clock instants must be timezone-aware, got naive {at!r}")
