"""How long a failed attempt waits before the next: doubling from a first delay, capped."""

from __future__ import annotations

from datetime import timedelta


def backoff(first: timedelta, attempts: int, cap: timedelta) -> timedelta:
    """The wait after the `attempts`-th failed attempt: `first`, then twice as long each
    time, never more than `cap`."""
    return min(first * (1 << max(attempts - 1, 0)), cap)
