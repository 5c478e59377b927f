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
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

log = logging.getLogger(__name__)


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
    """slack_sdk's WebClient, retrying only answers Slack did not act on (429 Retry-After).

    A 5xx or a dropped connection may follow a call Slack carried out, so those are not
    retried here: the outbox retries writes after looking for their marker, and a failed
    read falls back or is asked again by its caller.
    """
    return WebClient(
        token=token,
        base_url=base_url,
        logger=_sdk_logger(),
        timeout=15,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
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
    if _SDK_FILTER not in logger.filters:
        logger.addFilter(_SDK_FILTER)
    return logger


def _not_a_failed_send(record: logging.LogRecord) -> bool:
    # slack_sdk logs every failed call as an ERROR with its own wording; the callers say
    # what failed and what happens next (the outbox retries, start-up names the fix).
    return not record.getMessage().startswith("Failed to send a request to Slack API server")


_SDK_FILTER = _not_a_failed_send


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
        return self.client.chat_postMessage(channel=self.open_dm(user), text=text, **kw)

    def open_dm(self, user: str) -> str:
        """The id of the bot's direct-message conversation with `user`."""
        return self.client.conversations_open(users=[user])["channel"]["id"]

    def recent_messages(self, channel: str, thread_ts: str | None) -> list[dict[str, Any]]:
        """A thread's messages (or a channel's latest 200), with their metadata: where the
        outbox looks for a post whose answer was lost."""
        if thread_ts:
            response = self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=1000, include_all_metadata=True)
        else:
            response = self.client.conversations_history(
                channel=channel, limit=200, include_all_metadata=True)
        return list(response.get("messages") or ())

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

    def files_since(self, channel: str, since: datetime) -> list[dict[str, Any]]:
        """Files shared in `channel` from `since` on (where the outbox looks for an upload
        whose answer was lost)."""
        response = self.client.files_list(channel=channel, ts_from=str(int(since.timestamp())),
                                          count=100)
        return list(response.get("files") or ())

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when Slack cannot give one."""
        response = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        return response.get("permalink")

    def learn_workspace_url(self) -> None:
        """Ask auth.test once for the workspace URL that message links are built on.

        Called at start, outside any unit of work; when Slack cannot answer, links are
        left out until the next start.
        """
        try:
            self._workspace_url = self.client.auth_test().get("url") or ""
        except Exception as exc:
            log.warning("could not learn the workspace URL (%s): tickets get no link",
                        exc.__class__.__name__)

    def message_link(self, channel: str, ts: str) -> str | None:
        """A link to a top-level message, built without a Slack call (safe in a transaction).

        Slack's message links are ``<workspace url>archives/<channel>/p<ts without dot>``;
        None until `learn_workspace_url` found the workspace URL.
        """
        if not self._workspace_url:
            return None
        base = self._workspace_url if self._workspace_url.endswith("/") else (
            self._workspace_url + "/")
        return f"{base}archives/{channel}/p{ts.replace('.', '')}"

    def user_info(self, user: str) -> dict[str, Any]:
        """The users.info record of `user` (for admin checks and time zones)."""
        return self.client.users_info(user=user)["user"]


def make_unit_of_work(engine: Any) -> Callable[[], AbstractContextManager[Any]]:
    """`storage.db.unit_of_work` bound to `engine`, joining the unit already open on this
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
    from storage.db import unit_of_work

    local = threading.local()
    lock: AbstractContextManager[Any] = (
        threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
    )

    @contextmanager
    def unit() -> Iterator[Any]:
        outer = getattr(local, "session", None)
        if outer is not None:
            yield outer
            return
        with lock, unit_of_work(engine) as session:
            local.session = session
            try:
                yield session
            finally:
                local.session = None

    def is_open() -> bool:
        """Whether this thread is inside a unit of work (tests assert no Slack call is)."""
        return getattr(local, "session", None) is not None

    unit.is_open = is_open  # type: ignore[attr-defined]
    return unit


class WakeHook:
    """Callable that tells a background loop "there is work"; a no-op until connected.

    Deps is frozen and built before the scheduler starts, so the scheduler connects its
    wake functions here (`deps.wake_scheduler.connect(fn)`) instead of replacing the field.
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
    wake_outbox: WakeHook = field(default_factory=WakeHook)  # Slack writes were queued
    wake_inbox: WakeHook = field(default_factory=WakeHook)  # events were stored

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
