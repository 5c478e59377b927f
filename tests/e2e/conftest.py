"""End-to-end harness: the real bot over real HTTP, signed like Slack, against the fake Slack.

Fixtures:

- ``fake_slack``: a started ``bot.sandbox.slack_api.FakeSlack`` (127.0.0.1, random port).
- ``clock``: a ``FixedClock`` at ``START`` (Monday 2026-11-23 10:00 UTC) that tests move by hand.
- ``bot``: a ``BotHarness``: the real ``create_app`` + Starlette server on a real port in a thread,
  with the database of the ``db_url``/``engine`` fixtures (SQLite and PostgreSQL), ``fake_slack``
  and ``clock``. Send requests with ``bot.slack`` (a ``SlackSender``: ``message``, ``reaction``,
  ``slash``, ``action``, ``shortcut``, ``event``, ``post``); each returns the HTTP response after
  Bolt acked (events, buttons and shortcuts are then stored in the inbox). ``bot.settle()``
  waits until every listener started by those requests finished, then does what the
  scheduler's loops do, in the test's thread: applies the inbox and delivers the outbox until
  both are quiet (rows waiting out a backoff stay: move ``clock`` and settle again), so tests
  assert on the fake and the database without sleeping.

Everything the bot does with Slack is recorded by the fake: ``bot.fake.calls("chat.update")``.
``settle()`` also fails the test when the bot logged an ERROR or Bolt reported a listener that
did not ack; a test that provokes an unexpected error on purpose inspects and clears
``bot.error_log.records`` before the fixture's final ``settle()``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from bot.app import create_app
from bot.config import Settings
from bot.inbox import drain_inbox
from bot.outbox import send_outbox
from bot.queues import queue_health
from bot.sandbox.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack
from bot.server import BackgroundServer, create_server
from commands.deps import Deps, ThreadUnitOfWork
from commands.slack_notifier import SlackNotifier, build_client
from storage.repositories import inbox as inbox_repo
from storage.repositories import outbox as outbox_repo
from tests.clocks import FixedClock
from tests.closing import close_later, running_fake_slack

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside business hours
SIGNING_SECRET = "e2e-signing-secret"
BOT_TOKEN = "xoxb-e2e-token"
CHANNEL = "C0SUPPORT"
REQUESTER = "UREQUESTER"
AGENT = "UAGENT"
ADMIN = "UADMIN"
HOLDER = "e2e-worker"


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack sends: v0 HMAC-SHA256 of ``v0:{ts}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HttpResult:
    """What the bot answered."""

    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        """The body parsed as JSON (slash command replies, health checks)."""
        return json.loads(self.body or b"null")


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, counting work in flight so tests can wait for it to finish."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="bolt-listener")
        self._pending = 0
        self._cond = threading.Condition()
        self.errors: list[BaseException] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._cond:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future) -> None:
        if future.exception() is not None:
            self.errors.append(future.exception())
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until nothing is running (raises if it takes longer than `timeout`)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._pending == 0, timeout=timeout):
                raise AssertionError(f"{self._pending} listener(s) still running after {timeout}s")


class ErrorLog(logging.Handler):
    """Collects what means a bug: ERROR records (unexpected listener errors are logged so)
    and Bolt's warnings that a listener did not ack (Slack would show the user a failure)."""

    _BOLT_FAILURES = ("didn't call ack", "Unhandled request")

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR or any(s in message for s in self._BOLT_FAILURES):
            self.records.append(record)


class SlackSender:
    """Sends requests to the bot exactly as Slack does: signed, form-encoded or JSON."""

    def __init__(self, url: str, secret: str, fake: FakeSlack, clock: FixedClock) -> None:
        self.url = url
        self.secret = secret
        self.fake = fake
        self.clock = clock
        # Numbers of the next event id and message ts (a test that starts from a recorded
        # history continues them: Slack never repeats either).
        self.event_ids = itertools.count(1)
        self.ts_numbers = itertools.count(1)

    # ------------------------------------------------------------------ transport
    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        """POST a raw body to /slack/events, signed unless `signature` is given."""
        # Slack's timestamp is real wall-clock time; the bot checks it against its own clock.
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or slack_signature(self.secret, ts, body),
            **(headers or {}),
        }
        request = Request(self.url + "/slack/events", data=body, headers=all_headers,
                          method="POST")
        try:
            with urlopen(request, timeout=10) as response:
                return HttpResult(response.status, response.read(), dict(response.headers))
        except HTTPError as error:
            return HttpResult(error.code, error.read(), dict(error.headers))

    def post_json(self, payload: dict[str, Any], **kw: Any) -> HttpResult:
        """Events API delivery (JSON body)."""
        return self.post(json.dumps(payload).encode(), "application/json", **kw)

    def post_form(self, fields: dict[str, str], **kw: Any) -> HttpResult:
        """Slash commands and interactivity (form-encoded body)."""
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kw)

    # ------------------------------------------------------------------ builders
    def next_ts(self) -> str:
        """A fresh message ts (Slack's "seconds.micro" string), increasing."""
        n = next(self.ts_numbers)
        return f"{int(self.clock.now().timestamp())}.{n:06d}"

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
        **kw: Any,
    ) -> HttpResult:
        """Deliver one Events API event (retry_num > 0 marks a redelivery, like Slack)."""
        event_id = event_id or f"Ev{next(self.event_ids):08d}"
        payload = {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "api_app_id": "AAPP0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.clock.now().timestamp()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post_json(payload, headers=headers, **kw)

    def message(
        self,
        text: str,
        *,
        user: str = REQUESTER,
        channel: str = CHANNEL,
        ts: str | None = None,
        thread_ts: str | None = None,
        subtype: str | None = None,
        bot_id: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> tuple[str, HttpResult]:
        """A message event (also stored in the fake, so the bot can fetch it); returns its ts."""
        ts = ts or self.next_ts()
        event: dict[str, Any] = {
            "type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "channel",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if subtype:
            event["subtype"] = subtype
        if bot_id:
            event["bot_id"] = bot_id
        if not subtype and not bot_id:
            self.fake.add_message(channel, ts, user, text, thread_ts)
        return ts, self.event(event, event_id=event_id, retry_num=retry_num)

    def reaction(
        self, name: str, *, ts: str, user: str = AGENT, channel: str = CHANNEL,
        item_user: str = REQUESTER,
    ) -> HttpResult:
        """A reaction_added event on a message."""
        return self.event({
            "type": "reaction_added", "user": user, "reaction": name, "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self.next_ts(),
        })

    def slash(
        self, text: str, *, user: str = AGENT, channel: str = CHANNEL,
        channel_name: str = "support", command: str = "/sla",
    ) -> HttpResult:
        """A slash command, form-encoded exactly like Slack's."""
        return self.post_form({
            "token": "verification-token-unused", "team_id": TEAM_ID, "team_domain": "fake",
            "channel_id": channel, "channel_name": channel_name, "user_id": user,
            "user_name": user.lower(), "command": command, "text": text,
            "api_app_id": "AAPP0001", "is_enterprise_install": "false",
            "response_url": self.fake.response_url("command"),
            "trigger_id": "trigger-1",
        })

    def interactive(self, payload: dict[str, Any]) -> HttpResult:
        """Any interactivity payload (``payload=`` form field)."""
        return self.post_form({"payload": json.dumps(payload)})

    def action(
        self, action_id: str, value: str, *, user: str = AGENT, channel: str = CHANNEL,
        message_ts: str = "1.0", block_id: str = "ticket_card_actions",
    ) -> HttpResult:
        """A block_actions payload: somebody pressed a button on a message."""
        return self.interactive({
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "AAPP0001",
            "token": "verification-token-unused",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False},
            "trigger_id": "trigger-1",
            "channel": {"id": channel, "name": "support"},
            "message": {"type": "message", "ts": message_ts, "user": BOT_USER_ID,
                        "bot_id": BOT_ID, "text": "card"},
            "response_url": self.fake.response_url("action"),
            "actions": [{"action_id": action_id, "block_id": block_id, "value": value,
                         "type": "button", "action_ts": str(time.time())}],
        })

    def shortcut(
        self, callback_id: str, *, message_ts: str, text: str, author: str = REQUESTER,
        user: str = AGENT, channel: str = CHANNEL, thread_ts: str | None = None,
    ) -> HttpResult:
        """A message shortcut (``message_action``) on a message."""
        message: dict[str, Any] = {"type": "message", "user": author, "text": text,
                                   "ts": message_ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self.interactive({
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": "trigger-1",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "user": {"id": user, "name": user.lower()},
            "channel": {"id": channel, "name": "support"},
            "message_ts": message_ts,
            "message": message,
            "response_url": self.fake.response_url("shortcut"),
            "token": "verification-token-unused",
            "action_ts": str(time.time()),
        })


@dataclass
class BotHarness:
    """The running bot and its surroundings; see the module docstring."""

    fake: FakeSlack
    clock: FixedClock
    deps: Deps
    settings: Settings
    server: BackgroundServer
    executor: TrackingExecutor
    slack: SlackSender
    app: Any = field(repr=False)
    error_log: ErrorLog = field(default_factory=ErrorLog, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.server.url

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every listener run by earlier requests is finished; fail on their errors."""
        self.executor.wait_idle(timeout)
        self.drain()
        if self.executor.errors:
            errors, self.executor.errors[:] = list(self.executor.errors), []
            raise AssertionError(f"listener crashed: {errors[0]!r}") from errors[0]
        if self.error_log.records:
            records, self.error_log.records[:] = list(self.error_log.records), []
            record = records[0]
            detail = record.exc_info[1] if record.exc_info else None
            raise AssertionError(f"bot logged an error: {record.getMessage()} {detail!r}")

    def drain(self, timeout: float = 10.0) -> None:
        """Apply the inbox and deliver the outbox until neither has a due row (a scheduler
        started by the test may be working on some: those are waited for, up to `timeout`
        without progress)."""
        deadline = time.monotonic() + timeout
        while True:
            if drain_inbox(self.deps, holder=HOLDER) or send_outbox(
                    self.deps, holder=HOLDER, workers=1).claimed:
                deadline = time.monotonic() + timeout  # progress: the clock starts again
            now = self.clock.now()
            with self.deps.unit_of_work() as session:
                due = (inbox_repo.due_count(session=session, now=now)
                       + outbox_repo.due_count(session=session, now=now))
            if not due:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{due} inbox/outbox rows still due after {timeout}s")
            time.sleep(0.01)  # another worker holds them: poll until it is done

    def get(self, path: str) -> HttpResult:
        """GET a path of the bot's HTTP server."""
        try:
            with urlopen(self.url + path, timeout=10) as response:
                return HttpResult(response.status, response.read(), dict(response.headers))
        except HTTPError as error:
            return HttpResult(error.code, error.read(), dict(error.headers))


def add_the_usual_people(fake: FakeSlack) -> FakeSlack:
    """The people and channels of these tests."""
    fake.add_user(REQUESTER, name="rita", tz="Europe/Berlin")
    fake.add_user(AGENT, name="alex", tz="America/New_York")
    fake.add_user(ADMIN, name="ada", is_admin=True, tz="UTC")
    fake.add_channel(CHANNEL, name="support", members=[REQUESTER, AGENT, ADMIN])
    # Where tests escalate and send digests: channels the bot was invited to.
    fake.add_channel("C0LEADS", name="support-leads", members=[ADMIN])
    fake.add_channel("C0MANAGERS", name="managers", members=[ADMIN])
    return fake


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API with the usual people of these tests."""
    with running_fake_slack(token=BOT_TOKEN) as fake:
        yield add_the_usual_people(fake)


@pytest.fixture(scope="session")
def portal_history(_sqlite_template, tmp_path_factory):
    """``portal_helpers.seed_history``'s result, recorded once (on SQLite) for
    ``replay_history`` to lay into each test's bot, whatever its database."""
    from tests.e2e.portal_helpers import record_history

    path = tmp_path_factory.mktemp("portal-history") / "history.db"
    shutil.copyfile(_sqlite_template, path)
    return record_history(f"sqlite:///{path}")


@pytest.fixture
def clock() -> FixedClock:
    """The bot's clock, at START; move it with ``clock.advance(timedelta(...))``."""
    return FixedClock(START)


def build_bot(db_url: str, engine: Any, fake: FakeSlack, clock: FixedClock,
              **env: str) -> BotHarness:
    """Start a bot on a free port (the `bot` fixture; call it directly for special settings)."""
    settings = Settings.from_env({
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": db_url,
        **env,
    })
    client = build_client(settings.slack_bot_token, settings.slack_api_url)
    unit_of_work = ThreadUnitOfWork(engine)
    client.api_call = _outside_transactions(client.api_call, unit_of_work.is_open)
    deps = Deps(
        settings=settings,
        engine=engine,
        unit_of_work=unit_of_work,
        clock=clock,
        client=client,
        notifier=SlackNotifier(client),
    )
    executor = TrackingExecutor()
    app = create_app(settings, deps, listener_executor=executor)
    server = BackgroundServer(create_server(app, deps, health=queue_health(deps, HOLDER))).start()
    slack = SlackSender(server.url, SIGNING_SECRET, fake, clock)
    harness = BotHarness(fake=fake, clock=clock, deps=deps, settings=settings, server=server,
                         executor=executor, slack=slack, app=app)
    for name in _WATCHED_LOGGERS:
        logging.getLogger(name).addHandler(harness.error_log)
    return harness


def _outside_transactions(api_call, in_transaction):
    """Every Slack call of the bot fails the test when made inside a unit of work: a slow or
    failing Slack must never hold the database (SQLite's one writer) for as long as it takes."""

    def guarded(api_method: str, *args: Any, **kwargs: Any) -> Any:
        if in_transaction():
            raise AssertionError(f"Slack call {api_method} inside a database transaction")
        return api_call(api_method, *args, **kwargs)

    return guarded


# Loggers whose ERROR records mean a bug in a test run (refusals are logged below ERROR).
_WATCHED_LOGGERS = ("bot", "commands", "slack_bolt")


def stop_bot(harness: BotHarness) -> None:
    """Stop the server and the listener pool (the `bot` fixture does it for you); the
    server's last poll is waited out in the background (tests/closing.py)."""
    for name in _WATCHED_LOGGERS:
        logging.getLogger(name).removeHandler(harness.error_log)
    close_later(harness.server.stop)
    harness.executor.shutdown(wait=True)


@pytest.fixture
def bot(db_url, engine, fake_slack, clock) -> Iterator[BotHarness]:
    """The real bot over HTTP (see the module docstring); once per database engine."""
    harness = build_bot(db_url, engine, fake_slack, clock)
    try:
        yield harness
        harness.settle()
    finally:
        stop_bot(harness)
