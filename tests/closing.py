"""Servers a test is done with shut down in the background.

A server's shutdown waits out its poll interval (the fake Slack's socketserver looks every
0.5 s, uvicorn ticks every 0.1 s); hundreds of tests start one each, and none of them needs
to wait for the previous one's to notice it should stop. The session joins them at its end
(``tests/conftest.py``), so no server outlives the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.sandbox.slack_api import FakeSlack

_closing: list[threading.Thread] = []
_lock = threading.Lock()


def close_later(close: Callable[[], object]) -> None:
    """Run `close` (a server's stop) on a thread of its own and return at once."""
    thread = threading.Thread(target=close, name="close-later", daemon=True)
    thread.start()
    with _lock:
        _closing[:] = [t for t in _closing if t.is_alive()]
        _closing.append(thread)


def wait_all_closed(timeout: float = 30.0) -> None:
    """Join every shutdown `close_later` started (the end of the session)."""
    with _lock:
        threads, _closing[:] = list(_closing), []
    for thread in threads:
        thread.join(timeout)


@contextmanager
def running_fake_slack(**kwargs: Any) -> Iterator[FakeSlack]:
    """``with FakeSlack(**kwargs) as fake``, except that leaving does not wait for the stop."""
    fake = FakeSlack(**kwargs).start()
    try:
        yield fake
    finally:
        close_later(fake.stop)
