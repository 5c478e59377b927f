"""What listeners and commands need, bundled once and injected through Bolt's context.

`Deps` is built by the entry point (bot/cli.py) or a test; a global middleware puts it in
`context["deps"]`, so any listener can take a `deps` parameter. Nothing here opens a DB
session: `unit_of_work()` returns a fresh one per call, because Bolt runs listeners on a
thread pool and sessions must never cross threads. Each seam is a Protocol, so a test can
hand in its own clock, notifier or wake hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.models.metadata import Metadata
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine
from sqlmodel import Session

from commands.slack_notifier import (
    Blocks,
    HistoryMessage,
    SlackFile,
    SlackNotifier,
    SlackUser,
    build_client,
)


class Clock(Protocol):
    """The only source of "now" in bot/ and commands/ (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Current instant, aware UTC."""
        return datetime.now(UTC)


class Notifier(Protocol):
    """Everything the bot says to Slack (`SlackNotifier` is the real one)."""

    def post_message(self, channel: str, text: str, *, blocks: Blocks | None = None,
                     metadata: Metadata | None = None,
                     unfurl_links: bool | None = None) -> SlackResponse: ...

    def post_thread_reply(self, channel: str, thread_ts: str, text: str, *,
                          blocks: Blocks | None = None, metadata: Metadata | None = None,
                          unfurl_links: bool | None = None) -> SlackResponse: ...

    def dm_user(self, user: str, text: str, *, blocks: Blocks | None = None) -> SlackResponse: ...

    def open_dm(self, user: str) -> str: ...

    def recent_messages(self, channel: str, thread_ts: str | None) -> list[HistoryMessage]: ...

    def update_message(self, channel: str, ts: str, text: str, *,
                       blocks: Blocks | None = None) -> SlackResponse: ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> SlackResponse: ...

    def publish_home(self, user: str, view: dict[str, object]) -> SlackResponse: ...

    def upload_file(self, channel: str, content: bytes | str, filename: str, *,
                    title: str | None = None, initial_comment: str | None = None,
                    thread_ts: str | None = None) -> SlackResponse: ...

    def files_since(self, channel: str, since: datetime) -> list[SlackFile]: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def learn_workspace_url(self) -> None: ...

    def message_link(self, channel: str, ts: str) -> str | None: ...

    def user_info(self, user: str) -> SlackUser: ...


class Wake(Protocol):
    """Tells a background loop (scheduler, outbox sender, inbox worker) "there is work"."""

    def __call__(self, at: datetime | None = None) -> None: ...

    def connect(self, fn: Callable[..., None] | None) -> None: ...


class UnitOfWork(Protocol):
    """Opens a unit of work: a session that commits on success and rolls back on error."""

    def __call__(self) -> AbstractContextManager[Session]: ...


class PortalSettings(Protocol):
    """What commands read of the portal's settings."""

    @property
    def public_url(self) -> str: ...


class Settings(Protocol):
    """What commands and the wiring read of the bot's settings (bot/config.py)."""

    @property
    def slack_bot_token(self) -> str: ...

    @property
    def slack_api_url(self) -> str: ...

    @property
    def admins(self) -> frozenset[str]: ...

    @property
    def portal(self) -> PortalSettings | None: ...


class ThreadUnitOfWork:
    """`storage.db.unit_of_work` bound to an engine, joining the unit already open on this
    thread, and on SQLite one unit at a time per process.

    Joining: the inbox worker applies an event and marks it done in one transaction, while
    the commands it calls open units of their own; an inner unit is the outer one's
    session and commits (or rolls back) with it.

    SQLite has a single writer and every transaction here starts with BEGIN IMMEDIATE, so
    concurrent units queue on the database lock anyway. Its busy handler polls with sleeps
    of up to 100 ms, leaving the lock idle while threads nap; a process-wide lock hands the
    database to the next thread at once. Other processes still meet the database lock
    (busy_timeout).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._lock: AbstractContextManager[object] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        from storage.db import unit_of_work

        outer: Session | None = getattr(self._local, "session", None)
        if outer is not None:
            yield outer
            return
        with self._lock, unit_of_work(self._engine) as session:
            self._local.session = session
            try:
                yield session
            finally:
                self._local.session = None

    def is_open(self) -> bool:
        """Whether this thread is inside a unit of work (tests assert no Slack call is)."""
        return getattr(self._local, "session", None) is not None


class WakeHook:
    """A `Wake` that is a no-op until connected.

    Deps is frozen and built before the scheduler starts, so the scheduler connects its
    wake functions here (`deps.wake_scheduler.connect(fn)`) instead of replacing the field.
    """

    def __init__(self, fn: Callable[..., None] | None = None) -> None:
        self._fn = fn

    def connect(self, fn: Callable[..., None] | None) -> None:
        """Route future calls to `fn` (None disconnects); `fn` takes an optional `at`."""
        self._fn = fn

    def __call__(self, at: datetime | None = None) -> None:
        """Wake the loop; `at` (a ticket's next look) lets the scheduler skip needless cycles."""
        fn = self._fn
        if fn is not None:
            fn() if at is None else fn(at)


@dataclass(frozen=True)
class Deps:
    """Everything a listener or command needs; see the module docstring."""

    settings: Settings
    engine: Engine
    unit_of_work: UnitOfWork
    clock: Clock
    client: WebClient
    notifier: Notifier
    wake_scheduler: Wake = field(default_factory=WakeHook)  # tickets' next looks changed
    wake_outbox: Wake = field(default_factory=WakeHook)  # Slack writes were queued
    wake_inbox: Wake = field(default_factory=WakeHook)  # events were stored

    @classmethod
    def build(cls, settings: Settings, engine: Engine, *, clock: Clock | None = None) -> Deps:
        """Wire the real pieces from settings and an engine."""
        client = build_client(settings.slack_bot_token, settings.slack_api_url)
        return cls(
            settings=settings,
            engine=engine,
            unit_of_work=ThreadUnitOfWork(engine),
            clock=clock or SystemClock(),
            client=client,
            notifier=SlackNotifier(client),
        )
