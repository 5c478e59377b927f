"""What listeners and commands need, bundled once and injected through Bolt's context.

`Deps` is built by the entry point (bot/cli.py) or a test; a global middleware puts it in
`context["deps"]`, so any listener can take a `deps` parameter. Nothing here opens a DB
session: `unit_of_work()` returns a fresh one per call, because Bolt runs listeners on a
thread pool and sessions must never cross threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse


class Clock(Protocol):
    """The only source of "now" in bot/ and commands/ (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Current instant, aware UTC."""
        return datetime.now(UTC)


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


def build_client(token: str, base_url: str) -> WebClient:
    """A WebClient that honours Retry-After on 429, retries 500/503 and dropped connections,
    and keeps its connections open between calls (commands/http_client.py)."""
    from commands.http_client import KeepAliveWebClient

    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        logger=_sdk_logger(),
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _sdk_logger() -> logging.Logger:
    """slack_sdk's client logger with its level pinned to the level in effect.

    slack_sdk decides whether to format its "Sending a request" debug line by the logger's
    own level (`logger.level <= DEBUG`), which is NOTSET, so 0, unless someone set it: every
    call then renders the whole request (a card's blocks and all) into a string nobody logs.
    Pinning the effective level keeps that line for LOG_LEVEL=DEBUG only.
    """
    logger = logging.getLogger("slack_sdk.web.base_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


class Notifier:
    """The one seam for outbound Slack calls; everything the bot says goes through here."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._workspace_url: str | None = None

    def post_message(self, channel: str, text: str, **kw: Any) -> SlackResponse:
        """Post a top-level message in a channel (or DM channel id)."""
        return self.client.chat_postMessage(channel=channel, text=text, **kw)

    def post_thread_reply(
        self, channel: str, thread_ts: str, text: str, **kw: Any
    ) -> SlackResponse:
        """Reply inside a thread."""
        return self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, **kw)

    def dm_user(self, user: str, text: str, **kw: Any) -> SlackResponse:
        """Send a direct message to a user (opens the IM first)."""
        opened = self.client.conversations_open(users=[user])
        return self.client.chat_postMessage(channel=opened["channel"]["id"], text=text, **kw)

    def update_message(self, channel: str, ts: str, text: str, **kw: Any) -> SlackResponse:
        """Edit a message the bot posted (the ticket card)."""
        return self.client.chat_update(channel=channel, ts=ts, text=text, **kw)

    def post_ephemeral(self, channel: str, user: str, text: str, **kw: Any) -> SlackResponse:
        """A message only `user` sees."""
        return self.client.chat_postEphemeral(channel=channel, user=user, text=text, **kw)

    def publish_home(self, user: str, view: dict[str, Any]) -> SlackResponse:
        """Publish the App Home tab of `user`."""
        return self.client.views_publish(user_id=user, view=view)

    def upload_file(
        self,
        channel: str,
        content: bytes | str,
        filename: str,
        *,
        title: str | None = None,
        initial_comment: str | None = None,
        thread_ts: str | None = None,
    ) -> SlackResponse:
        """Upload a file into a channel (external upload flow, files_upload_v2)."""
        return self.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=title or filename,
            initial_comment=initial_comment,
            thread_ts=thread_ts,
        )

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when Slack cannot give one."""
        response = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        return response.get("permalink")

    def message_link(self, channel: str, ts: str) -> str | None:
        """A link to a top-level message, built without a call per message.

        Slack's message links are ``<workspace url>archives/<channel>/p<ts without dot>``;
        the workspace URL comes from auth.test once. None when Slack cannot be asked.
        """
        if self._workspace_url is None:
            try:
                self._workspace_url = self.client.auth_test().get("url") or ""
            except Exception:
                return None
        if not self._workspace_url:
            return None
        base = self._workspace_url if self._workspace_url.endswith("/") else (
            self._workspace_url + "/")
        return f"{base}archives/{channel}/p{ts.replace('.', '')}"

    def user_info(self, user: str) -> dict[str, Any]:
        """The users.info record of `user` (for admin checks and time zones)."""
        return self.client.users_info(user=user)["user"]


def make_unit_of_work(engine: Any) -> Callable[[], AbstractContextManager[Any]]:
    """`storage.db.unit_of_work` bound to `engine`; on SQLite one unit at a time per process.

    SQLite has a single writer and every transaction here starts with BEGIN IMMEDIATE, so
    concurrent units queue on the database lock anyway. Its busy handler polls with sleeps
    of up to 100 ms, leaving the lock idle while listener threads nap; a process-wide lock
    hands the database to the next thread at once. Re-entrant, so a unit opened inside
    another on the same thread behaves exactly as without it. Other processes still meet
    the database lock (busy_timeout).
    """
    from storage.db import unit_of_work

    if engine.dialect.name != "sqlite":
        return lambda: unit_of_work(engine)
    lock = threading.RLock()

    @contextmanager
    def serialized() -> Iterator[Any]:
        with lock, unit_of_work(engine) as session:
            yield session

    return serialized


class WakeHook:
    """Callable that tells the scheduler "ticket times changed"; a no-op until connected.

    Deps is frozen and built before the scheduler starts, so the scheduler connects its
    wake function here (`deps.wake_scheduler.connect(fn)`) instead of replacing the field.
    """

    def __init__(self, fn: Callable[[], None] | None = None) -> None:
        self._fn = fn

    def connect(self, fn: Callable[..., None] | None) -> None:
        """Route future calls to `fn` (None disconnects); `fn` takes an optional `at`."""
        self._fn = fn

    def __call__(self, at: datetime | None = None) -> None:
        """Wake the scheduler; `at` (a ticket's next look) lets it skip needless cycles."""
        fn = self._fn
        if fn is not None:
            fn() if at is None else fn(at)


class IntakeSlot:
    """Where listeners send new channel messages: a `commands.intake.IntakeBatcher` once one is
    connected (`slabot run` does), else the listener opens the ticket itself."""

    def __init__(self) -> None:
        self.batcher: Any = None

    def connect(self, batcher: Any) -> None:
        """Route new-message tickets to `batcher` (None: open them in the listener again)."""
        self.batcher = batcher


@dataclass(frozen=True)
class Deps:
    """Everything a listener or command needs; see the module docstring."""

    settings: Any
    engine: Any
    unit_of_work: Callable[[], AbstractContextManager[Any]]
    clock: Clock
    client: WebClient
    notifier: Notifier
    wake_scheduler: Callable[..., None] = field(default_factory=WakeHook)
    intake: IntakeSlot = field(default_factory=IntakeSlot)

    @classmethod
    def build(cls, settings: Any, engine: Any, *, clock: Clock | None = None) -> Deps:
        """Wire the real pieces from settings and an engine."""
        client = build_client(settings.slack_bot_token, settings.slack_api_url)
        return cls(
            settings=settings,
            engine=engine,
            unit_of_work=make_unit_of_work(engine),
            clock=clock or SystemClock(),
            client=client,
            notifier=Notifier(client),
        )
