"""Waiting on conditions, never on durations: the one poll loop of the tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Poll `predicate` until it returns something truthy and return that; after `timeout`
    seconds fail, naming `what` was awaited. The timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
