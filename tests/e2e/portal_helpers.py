"""The portal's test harness: the real bot with the portal on, a browser-like HTTP client with
cookies, and a seeded history of tickets in two channels.

``portal_bot`` serves the bot on a port known before its settings are made, so
SLABOT_PUBLIC_URL (and the redirect URI Slack sends people back to) is the bot itself.

``seed_history`` sends two weeks of requests through the bot, which takes a couple of
seconds; ``record_history`` does it once and ``replay_history`` lays the result (database
rows, the fake Slack's state, the clock) into the bot of each test that needs it.
"""

from __future__ import annotations

import copy
import http.cookiejar
import itertools
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urljoin, urlsplit

from sqlalchemy import Integer, text
from sqlmodel import SQLModel

from bot.app import create_app
from bot.config import Settings
from bot.queues import queue_health
from bot.server import BackgroundServer, create_server
from commands.deps import Deps, ThreadUnitOfWork
from commands.slack_notifier import SlackNotifier, build_client
from storage.db import make_engine
from tests.clocks import FixedClock
from tests.closing import running_fake_slack
from tests.e2e.conftest import (
    _WATCHED_LOGGERS,
    ADMIN,
    AGENT,
    BOT_TOKEN,
    CHANNEL,
    HOLDER,
    SIGNING_SECRET,
    START,
    BotHarness,
    HttpResult,
    SlackSender,
    TrackingExecutor,
    add_the_usual_people,
    stop_bot,
)

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "portal-client-secret"
SESSION_SECRET = "s" * 40
PRIVATE = "C0PRIVATE"  # ADMIN and AGENT only: REQUESTER must never see it
OUTSIDER = "UOUTSIDER"  # in the workspace, in no channel


class _LateApp:
    """An ASGI app filled in after the server knows its port."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def portal_bot(db_url: str, engine: Any, fake: Any, clock: Any, **env: str) -> BotHarness:
    """The real bot with the portal's four settings, its public URL its own address."""
    late = _LateApp()
    server = BackgroundServer(late)
    fake.enable_openid(CLIENT_ID, CLIENT_SECRET)
    settings = Settings.from_env({
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": db_url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLABOT_PUBLIC_URL": server.url,
        "SLABOT_SESSION_SECRET": SESSION_SECRET,
        **env,
    })
    client = build_client(settings.slack_bot_token, settings.slack_api_url)
    deps = Deps(settings=settings, engine=engine, unit_of_work=ThreadUnitOfWork(engine),
                clock=clock, client=client, notifier=SlackNotifier(client))
    executor = TrackingExecutor()
    app = create_app(settings, deps, listener_executor=executor)
    late.app = create_server(app, deps, health=queue_health(deps, HOLDER))
    server.start()
    harness = BotHarness(fake=fake, clock=clock, deps=deps, settings=settings, server=server,
                         executor=executor, slack=SlackSender(server.url, SIGNING_SECRET, fake,
                                                              clock), app=app)
    import logging

    for name in _WATCHED_LOGGERS:
        logging.getLogger(name).addHandler(harness.error_log)
    return harness


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A person's browser: keeps cookies, follows redirects one hop at a time."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, url: str, *, method: str = "GET") -> HttpResult:
        """One request, no redirect followed."""
        full = urljoin(self.base, url)
        data = b"" if method == "POST" else None
        try:
            with self._opener.open(urllib.request.Request(full, data=data, method=method),
                                   timeout=15) as response:
                return HttpResult(response.status, response.read(), dict(response.headers))
        except HTTPError as error:
            return HttpResult(error.code, error.read(), dict(error.headers))

    def get(self, url: str, *, follow: bool = True, hops: int = 8) -> HttpResult:
        """GET, following redirects (also to the fake Slack and back) when `follow`."""
        result = self.request(url)
        while follow and result.status in (301, 302, 303, 307) and hops:
            url = urljoin(url if url.startswith("http") else self.base + url,
                          result.headers["location"] if "location" in result.headers
                          else result.headers["Location"])
            result = self.request(url)
            hops -= 1
        return result

    def text(self, url: str) -> str:
        """The page's HTML (asserting it answered 200)."""
        result = self.get(url)
        assert result.status == 200, (url, result.status, result.body[:300])
        return result.body.decode()

    def sign_in(self, fake: Any, user_id: str, *, team_id: str | None = None,
                name: str = "someone") -> HttpResult:
        """The whole Sign in with Slack dance; returns the page it lands on."""
        kw = {"team_id": team_id} if team_id else {}
        fake.sign_in_as(user_id, name=name, **kw)
        return self.get("/portal/auth/login")


def location(result: HttpResult) -> str:
    """Where a redirect points."""
    return result.headers.get("location") or result.headers.get("Location") or ""


def query_of(url: str) -> dict[str, str]:
    """A URL's query as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def seed_history(bot: BotHarness) -> None:
    """Two weeks of tickets: in CHANNEL (everyone) and PRIVATE (admin and agent only), some
    answered late, some resolved, one still open and breached."""
    from tests.e2e.verbs_helpers import ask

    bot.deps.notifier.learn_workspace_url()  # tickets get links to their threads
    bot.fake.add_channel(PRIVATE, name="secret-escalations", is_private=True,
                         members=[ADMIN, AGENT])
    bot.fake.add_user(OUTSIDER, name="olga")
    ask(bot, "track", channel=CHANNEL)
    ask(bot, "track", channel=PRIVATE)
    ask(bot, "policy credits 95%=5% 90%=10%", channel=CHANNEL)
    for day in range(10):
        for channel, title in ((CHANNEL, f"urgent: printer on fire {day}"),
                               (PRIVATE, f"urgent: secret merger question {day}")):
            ts, _ = bot.slack.message(title, channel=channel)
            bot.settle()
            # Every third request is answered late (P2 first response: 1 business hour).
            bot.clock.advance(timedelta(hours=2) if day % 3 == 0 else timedelta(minutes=10))
            bot.slack.message("on it", user=AGENT, channel=channel, thread_ts=ts)
            bot.settle()
            if day % 4 == 1:  # resolved late (P2 resolution: 8 business hours)
                bot.clock.advance(timedelta(hours=30))
            if day != 9:
                bot.slack.reaction("white_check_mark", ts=ts, user=AGENT, channel=channel)
                bot.settle()
        bot.clock.advance(timedelta(days=1))
    bot.settle()


# The fake Slack's state a history leaves behind (its public record of the workspace).
_FAKE_STATE = ("users", "channels", "messages", "views", "uploads", "file_names",
               "shared_files", "ephemerals", "response_targets")


@dataclass(frozen=True)
class History:
    """What ``seed_history`` left behind, to lay into another bot with ``replay_history``."""

    rows: dict[str, list[dict[str, Any]]]  # table name -> rows
    fake_state: dict[str, Any]
    fake_ts_handed_out: int  # message ts the fake gave the bot's posts
    next_event_id: int
    next_ts_number: int
    now: datetime


def record_history(db_url: str) -> History:
    """Run ``seed_history`` once through a portal bot on `db_url` (migrated, empty)."""
    engine = make_engine(db_url)
    try:
        with running_fake_slack(token=BOT_TOKEN) as fake:
            bot = portal_bot(db_url, engine, add_the_usual_people(fake), FixedClock(START))
            try:
                seed_history(bot)
                return history_of(bot)
            finally:
                stop_bot(bot)
    finally:
        engine.dispose()


def history_of(bot: BotHarness) -> History:
    """What `bot` went through so far (uses up a number of its fake and its sender: last)."""
    # next_ts hands out 1_800_000_000 + n seconds and n micro: n - 1 were handed out before.
    handed_out = int(bot.fake.next_ts().split(".")[1]) - 1
    return History(
        rows=_table_rows(bot.deps.engine),
        fake_state={name: copy.deepcopy(getattr(bot.fake, name)) for name in _FAKE_STATE},
        fake_ts_handed_out=handed_out,
        next_event_id=next(bot.slack.event_ids),
        next_ts_number=next(bot.slack.ts_numbers),
        now=bot.clock.now(),
    )


def replay_history(bot: BotHarness, history: History) -> None:
    """Make `bot` (just built, on an empty database) what ``seed_history`` would have made it."""
    _insert_rows(bot.deps.engine, history.rows)
    for name, value in history.fake_state.items():
        state = getattr(bot.fake, name)
        state.clear()
        (state.update if isinstance(state, dict) else state.extend)(copy.deepcopy(value))
    for _ in range(history.fake_ts_handed_out):
        bot.fake.next_ts()
    bot.slack.event_ids = itertools.count(history.next_event_id)
    bot.slack.ts_numbers = itertools.count(history.next_ts_number)
    bot.clock.set(history.now)
    bot.deps.notifier.learn_workspace_url()  # as seed_history does


def _table_rows(engine: Any) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {
            table.name: [dict(row._mapping) for row in connection.execute(
                table.select().order_by(*table.primary_key.columns))]
            for table in SQLModel.metadata.sorted_tables
        }


def _insert_rows(engine: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
        if engine.dialect.name != "postgresql":
            return
        # Explicit ids leave PostgreSQL's sequences behind: move them past the rows.
        for table in SQLModel.metadata.sorted_tables:
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer) and rows[table.name]:
                    connection.execute(
                        text("SELECT setval(pg_get_serial_sequence(:table, :column), :last)"),
                        {"table": f'"{table.name}"', "column": column.name,
                         "last": max(row[column.name] for row in rows[table.name])})
