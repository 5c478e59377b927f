"""`slabot demo`: the real bot in a local Slack sandbox, no Slack account needed.

Three servers on 127.0.0.1 in one process:

- the sandbox page on ``--port`` (3000): a Slack-like workspace in the browser
  (bot/sandbox/web.py), live over server-sent events;
- the sandbox's Slack Web API (bot/sandbox/slack_api/, strict) on a free port: the bot's
  ``SLACK_API_URL``, exactly as it would call slack.com;
- the bot itself on another free port: the production `create_app` + `create_server`
  (``/slack/events``, ``/healthz``, ``/metrics``), its scheduler, inbox worker and outbox
  sender started as `slabot run` starts them, and its portal (``/portal``), whose Sign in
  with Slack goes through the sandbox (bot/sandbox/signin.py).

What a person does in the page becomes what Slack would send: Events API callbacks, slash
commands (with a ``response_url`` the sandbox serves) and interactivity payloads, signed with
the demo signing secret and POSTed to the bot's ``/slack/events``. Nothing in the bot knows
it is a demo. Data lives in its own SQLite file (``slabot-demo.db`` in the current directory,
never ``slabot.db``), seeded on first start with 90 days of #support history; what the
sandbox shows (messages, reactions, files, App Home) is kept beside it in
``slabot-demo.sandbox.json``. ``--reset`` starts both over.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import fail, interrupt
from bot.sandbox.slack_api import BOT_USER_ID, TEAM_ID, FakeChannel, FakeSlack
from bot.sandbox.store import SandboxStore

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.server import BackgroundServer
    from commands.deps import Deps

log = logging.getLogger("slabot.demo")

DEMO_DATABASE = "slabot-demo.db"
# Public on purpose: the sandbox signs its requests with it, and both ends run on this machine.
DEMO_SIGNING_SECRET = "slabot-demo-signing-secret"
DEMO_BOT_TOKEN = "xoxb-slabot-demo-sandbox"
DEFAULT_FIRST_RESPONSE = "2m"
DEFAULT_RESOLUTION = "10m"


@dataclass(frozen=True)
class Person:
    """A demo member of the sandbox workspace."""

    id: str
    name: str
    title: str
    tz: str
    is_admin: bool = False
    pickable: bool = True


@dataclass(frozen=True)
class Channel:
    """A channel of the sandbox workspace."""

    id: str
    name: str
    topic: str


REQUESTER = Person("U0DEMORITA", "rita", "Rita · requester (sales)", "Europe/Berlin")
AGENT_ALEX = Person("U0DEMOALEX", "alex", "Alex · support agent", "America/New_York")
AGENT_SAM = Person("U0DEMOSAM", "sam", "Sam · support agent", "Europe/London")
MANAGER = Person("U0DEMOMORGAN", "morgan", "Morgan · support manager (admin)", "Europe/Berlin",
                 is_admin=True)
# Colleagues who filed some of the history; not in the person picker.
_HISTORY_REQUESTERS = (
    Person("U0DEMOLENA", "lena", "Lena · finance", "Europe/Berlin", pickable=False),
    Person("U0DEMOKAI", "kai", "Kai · warehouse", "Europe/Berlin", pickable=False),
)
PEOPLE = (REQUESTER, AGENT_ALEX, AGENT_SAM, MANAGER, *_HISTORY_REQUESTERS)
SUPPORT = Channel("C0DEMOSUPPORT", "support",
                  "Ask for help here: every new message becomes an SLA ticket")
ESCALATIONS = Channel("C0DEMOESCALATE", "escalations", "Where breaches are escalated")
CHANNELS = (SUPPORT, ESCALATIONS)


# ---------------------------------------------------------------------------- CLI
def configure(parser: argparse.ArgumentParser) -> None:
    """`slabot demo` arguments."""
    parser.add_argument("--port", type=int, default=3000,
                        help="port of the sandbox page on 127.0.0.1 (default 3000)")
    parser.add_argument("--reset", action="store_true",
                        help="start over: a fresh demo database and sandbox")
    parser.add_argument("--database", default=DEMO_DATABASE,
                        help=f"demo SQLite file (default ./{DEMO_DATABASE})")
    parser.add_argument("--first-response", default=DEFAULT_FIRST_RESPONSE, metavar="DURATION",
                        help="#support's first response target in the demo (default 2m)")
    parser.add_argument("--resolution", default=DEFAULT_RESOLUTION, metavar="DURATION",
                        help="#support's resolution target in the demo (default 10m)")


def run(args: argparse.Namespace) -> int:
    """Seed (first start), start the bot and the sandbox, serve until Ctrl-C."""
    from bot.server import bind_socket

    started = time.perf_counter()
    checked = _checked(args)
    if isinstance(checked, str):
        return fail(checked)
    level, targets, database = checked
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    state_file = database.with_suffix(".sandbox.json")
    if args.reset:
        for path in (database, state_file, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
    # The page's port first: a busy port is said at once, and the bot learns the page's
    # address as its workspace URL (message links open the sandbox).
    try:
        page_socket = bind_socket("127.0.0.1", args.port)
    except OSError as exc:
        return fail(f"cannot serve the sandbox on 127.0.0.1:{args.port} ({exc.strerror}); "
                    "try another --port")
    page_url = f"http://127.0.0.1:{page_socket.getsockname()[1]}/"
    from sqlalchemy.exc import SQLAlchemyError

    try:
        demo = DemoRuntime.start(database, state_file, targets, page_url=page_url)
    except (OSError, SQLAlchemyError) as exc:
        page_socket.close()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return fail(f"cannot start the demo with {database.name}: {reason} "
                    "(--reset starts over with a fresh demo database)")
    try:
        web = demo.serve_page(page_socket)
    except OSError as exc:
        demo.stop()
        page_socket.close()
        return fail(f"cannot serve the sandbox page: {exc}")
    elapsed = time.perf_counter() - started
    print(f"slabot demo: ready in {elapsed:.1f}s on http://127.0.0.1:{web.port}/ "
          f"(a local Slack sandbox; demo data in {database.name}"
          f"{', ' + demo.seed_note if demo.seed_note else ''}). Ctrl-C stops it.", flush=True)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("slabot demo: stopping", file=sys.stderr, flush=True)
    finally:
        web.stop()
        demo.stop()
    return 0


def _checked(args: argparse.Namespace) -> tuple[str, tuple[timedelta, timedelta], Path] | str:
    """The log level, targets and database the demo runs with, or what is wrong."""
    from bot.config import LogSettings, SettingsError

    try:
        # Quieter than the bot by default: the page is where things happen.
        level = LogSettings.from_env({"LOG_LEVEL": "WARNING", **os.environ}).log_level
    except SettingsError as exc:
        return "; ".join(exc.problems)
    try:
        targets = _targets(args.first_response, args.resolution)
    except ValueError as exc:
        return str(exc)
    if not 0 <= args.port < 65536:
        return f"--port must be between 1 and 65535, got {args.port}"
    database = Path(args.database).expanduser().resolve()
    if database.name == "slabot.db":
        return "the demo never uses slabot.db (the bot's own database); pick another --database"
    return level, targets, database


def _targets(first_response: str, resolution: str) -> tuple[timedelta, timedelta]:
    from sla.durations import DurationError, parse_duration

    try:
        first, whole = parse_duration(first_response), parse_duration(resolution)
    except DurationError as exc:
        raise ValueError(f"demo targets: {exc}") from None
    if whole < first:
        raise ValueError("--resolution cannot be shorter than --first-response")
    return first, whole


# ---------------------------------------------------------------------------- runtime
class DemoRuntime:
    """The sandbox Web API, the demo database and the real bot, started together."""

    def __init__(self) -> None:
        self.sandbox: FakeSlack
        self.bot_url = ""
        self.seed_note = ""
        self._stoppers: list[Any] = []

    @classmethod
    def start(cls, database: Path, state_file: Path, targets: tuple[timedelta, timedelta],
              *, page_url: str) -> DemoRuntime:
        """Everything but the page: sandbox API, database (seeded when new), bot, scheduler."""
        from prometheus_client import CollectorRegistry

        from bot.app import create_app
        from bot.metrics import SchedulerMetrics
        from bot.queues import queue_health, queue_stats
        from bot.scheduler import SchedulerOptions, start_scheduler
        from bot.server import BackgroundServer, bind_socket, create_server
        from commands.deps import Deps
        from storage import migrate
        from storage.db import make_engine

        runtime = cls()
        sandbox = FakeSlack(token=DEMO_BOT_TOKEN, strict=True, now=time.time,
                            workspace_url=page_url).start()
        runtime.sandbox = sandbox
        runtime._stoppers.append(sandbox.stop)
        _populate(sandbox)
        store = SandboxStore(sandbox, state_file)
        store.load()
        runtime._stoppers.append(store.close)
        url = f"sqlite:///{database}"
        fresh = not database.exists()
        migrate.upgrade(url)
        engine = make_engine(url)
        runtime._stoppers.append(engine.dispose)
        bot_socket = bind_socket("127.0.0.1", 0)  # its URL first: the portal's public URL
        runtime.bot_url = f"http://127.0.0.1:{bot_socket.getsockname()[1]}"
        settings = _bot_settings(sandbox, database_url=url, bot_url=runtime.bot_url,
                                 page_url=page_url)
        deps = Deps.build(settings, engine)
        runtime.seed_note = prepare_demo_data(deps, targets, fresh=fresh)
        registry = CollectorRegistry()
        metrics = SchedulerMetrics(registry)
        metrics.watch_queues(lambda: queue_stats(deps))
        app = create_app(settings, deps, metrics=metrics)
        options = SchedulerOptions.from_env({})
        scheduler = start_scheduler(deps, options, metrics=metrics)
        runtime._stoppers.insert(0, lambda: scheduler.stop(wait=True))
        bot = BackgroundServer(create_server(
            app, deps, registry=registry, health=queue_health(deps, options.holder)),
            sock=bot_socket).start()
        runtime._stoppers.insert(0, bot.stop)
        from commands.catchup import catch_up

        threading.Thread(target=catch_up, args=(deps,), name="catch-up", daemon=True).start()
        return runtime

    def serve_page(self, sock: socket.socket) -> BackgroundServer:
        """Serve the sandbox page on `sock`; returns the running server. Its live streams
        end at stop (uvicorn would wait for them)."""
        from bot.sandbox.botlink import BotLink
        from bot.sandbox.web import SandboxPage, create_sandbox_app
        from bot.server import BackgroundServer

        page = SandboxPage(sandbox=self.sandbox, people=PEOPLE, channels=CHANNELS,
                           bot=BotLink(self.bot_url, DEMO_SIGNING_SECRET),
                           tracked=SUPPORT.id, portal_url=self.bot_url)
        return BackgroundServer(create_sandbox_app(page), sock=sock,
                                on_stop=page.close_streams, graceful_seconds=2).start()

    def stop(self) -> None:
        """Stop the bot (deliveries in flight finish), then save and close the rest."""
        for stop in self._stoppers:
            try:
                stop()
            except Exception:
                log.exception("stopping the demo")


def _bot_settings(sandbox: FakeSlack, *, database_url: str, bot_url: str,
                  page_url: str) -> Settings:
    """What the bot runs with: the sandbox as its Slack, and the portal on, signing in through
    the sandbox page (bot/sandbox/signin.py) with client credentials made for this run."""
    from bot.config import Settings
    from bot.sandbox.signin import AUTHORIZE_PATH

    client_id, client_secret = f"demo.{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    sandbox.enable_openid(client_id, client_secret)
    return Settings.from_env({
        "SLACK_BOT_TOKEN": DEMO_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": DEMO_SIGNING_SECRET,
        "SLACK_API_URL": sandbox.api_url,
        "DATABASE_URL": database_url,
        "SLABOT_ADMINS": MANAGER.id,
        "LOG_LEVEL": logging.getLevelName(logging.getLogger().getEffectiveLevel()),
        "SLACK_CLIENT_ID": client_id,
        "SLACK_CLIENT_SECRET": client_secret,
        "SLABOT_PUBLIC_URL": bot_url,
        "SLABOT_SESSION_SECRET": secrets.token_urlsafe(32),
        "SLACK_AUTHORIZE_URL": page_url.rstrip("/") + AUTHORIZE_PATH,
    })


def _populate(sandbox: FakeSlack) -> None:
    """The workspace: its people, #support and #escalations (the bot in both), and DMs."""
    for person in PEOPLE:
        sandbox.add_user(person.id, name=person.name, is_admin=person.is_admin, tz=person.tz)
    everyone = [p.id for p in PEOPLE]
    for channel in CHANNELS:
        sandbox.add_channel(channel.id, name=channel.name, members=[*everyone, BOT_USER_ID])
    for person in PEOPLE:
        sandbox.channels[dm_of(person.id)] = FakeChannel(
            id=dm_of(person.id), name=person.name, is_private=True,
            members=[person.id, BOT_USER_ID], is_im=True)


def dm_of(user_id: str) -> str:
    """The id of `user_id`'s direct messages with the bot (what conversations.open answers)."""
    return "D" + user_id.lstrip("U")


# ---------------------------------------------------------------------------- data
def prepare_demo_data(deps: Deps, targets: tuple[timedelta, timedelta], *, fresh: bool) -> str:
    """Track #support with the demo policy (every start: the targets may change) and, in a
    fresh database, write the history. Returns a note for the ready line."""
    from bot.sandbox.history import HISTORY_TZ, history_policy, seed_history
    from sla.calendar import BusinessCalendar
    from sla.policy import Policy
    from sla.targets import Priority, Targets
    from storage import repositories as repo

    now = deps.clock.now()
    first, whole = targets
    demo_policy = Policy(calendar=BusinessCalendar.always("UTC"),
                         targets={p: Targets(first, whole) for p in Priority})
    note = ""
    with deps.unit_of_work() as session:
        workspace_id = repo.get_or_create_workspace(session=session, team_id=TEAM_ID,
                                                    name="Sandbox", tz=HISTORY_TZ).id
        assert workspace_id is not None  # a stored row always has its id
        if fresh:
            since = now - timedelta(days=92)
            repo.track_channel(session=session, workspace_id=workspace_id,
                               channel_id=SUPPORT.id, name=SUPPORT.name, at=since)
            # The business-hours policy the history was measured under stays the workspace
            # default (what `/sla status all` and other channels fall back to).
            repo.save_policy(session=session, workspace_id=workspace_id,
                             policy=history_policy())
            seeded = seed_history(
                session, workspace_id=workspace_id, channel_id=SUPPORT.id,
                requesters=(REQUESTER.id, *(p.id for p in _HISTORY_REQUESTERS)),
                agents=(AGENT_ALEX.id, AGENT_SAM.id), now=now)
            note = (f"seeded {seeded.tickets} tickets since "
                    f"{seeded.first.astimezone(UTC):%Y-%m-%d}, {seeded.breached} breached")
        repo.track_channel(session=session, workspace_id=workspace_id, channel_id=SUPPORT.id,
                           name=SUPPORT.name, at=now)
        repo.configure_channel(session=session, workspace_id=workspace_id,
                               channel_id=SUPPORT.id, escalation_channel_ids=[ESCALATIONS.id],
                               manager_user_ids=[MANAGER.id])
        repo.save_policy(session=session, workspace_id=workspace_id, policy=demo_policy,
                         channel_id=SUPPORT.id)
    return note
