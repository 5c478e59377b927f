"""The portal's test harness: the real bot with the portal on, a browser-like HTTP client with
cookies, and a seeded history of tickets in two channels.

``portal_bot`` serves the bot on a port known before its settings are made, so
SLABOT_PUBLIC_URL (and the redirect URI Slack sends people back to) is the bot itself.
"""

from __future__ import annotations

import http.cookiejar
import time
import urllib.request
from datetime import timedelta
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urljoin, urlsplit

from bot.app import create_app
from bot.config import Settings
from bot.queues import queue_health
from bot.server import BackgroundServer, create_server
from commands.deps import Deps, ThreadUnitOfWork
from commands.slack_notifier import SlackNotifier, build_client
from tests.e2e.conftest import (
    _WATCHED_LOGGERS,
    ADMIN,
    AGENT,
    BOT_TOKEN,
    CHANNEL,
    HOLDER,
    SIGNING_SECRET,
    BotHarness,
    HttpResult,
    SlackSender,
    TrackingExecutor,
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
        started = time.perf_counter()
        try:
            with self._opener.open(urllib.request.Request(full, data=data, method=method),
                                   timeout=15) as response:
                return HttpResult(response.status, response.read(), dict(response.headers),
                                  time.perf_counter() - started)
        except HTTPError as error:
            return HttpResult(error.code, error.read(), dict(error.headers),
                              time.perf_counter() - started)

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
