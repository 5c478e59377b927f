"""`slabot run`: migrate, connect to Slack, start the background work (inbox worker, planner,
sender, digests) and serve Slack's requests over HTTP or Socket Mode until stopped; then let
the deliveries in flight finish."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from slack_bolt import App

    from bot.config import Settings
    from bot.scheduler import SchedulerHandle, SchedulerOptions
    from commands.deps import Deps

log = logging.getLogger("slabot")


def run(args: argparse.Namespace) -> int:
    """Migrate, connect to Slack, start the scheduler and serve until stopped."""
    from bot.cli import configure_logging, fail, settings_or_exit

    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    from bot.scheduler import SchedulerConfigError, SchedulerOptions

    try:
        options = SchedulerOptions.from_env()
    except SchedulerConfigError as exc:  # a bad SLABOT_SCHEDULER_* variable, named in exc
        return fail(f"cannot start: {exc}")
    configure_logging(settings.log_level)
    log.info("starting with %s", settings)
    bot = _start_bot(settings, options)
    if isinstance(bot, int):
        return bot
    try:
        return _serve_socket_mode(bot) if settings.socket_mode else _serve_http(bot)
    finally:
        bot.stop()


@dataclass(frozen=True)
class _RunningBot:
    """What `slabot run` started: served, then stopped (deliveries in flight finish)."""

    settings: Settings
    deps: Deps
    app: App
    registry: CollectorRegistry
    scheduler: SchedulerHandle
    health: Callable[[], dict[str, Any]]

    def stop(self) -> None:
        """Stop the scheduler (waiting for running cycles), then close the database."""
        self.scheduler.stop(wait=True)
        self.deps.engine.dispose()


def _start_bot(settings: Settings, options: SchedulerOptions) -> _RunningBot | int:
    """Migrate, build the app (its auth.test checks the token), start the background work."""
    from prometheus_client import CollectorRegistry
    from slack_bolt.error import BoltError

    from bot.app import create_app
    from bot.cli import cannot_open_database, database_errors, fail, interrupt
    from bot.config import SETUP_HINT
    from bot.metrics import SchedulerMetrics
    from bot.queues import queue_health, queue_stats
    from bot.scheduler import start_scheduler
    from commands.deps import Deps
    from storage import migrate
    from storage.db import make_engine

    try:
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
    except database_errors() as exc:
        return fail(cannot_open_database(settings.database_url, exc))
    deps = Deps.build(settings, engine)
    registry = CollectorRegistry()
    metrics = SchedulerMetrics(registry)
    metrics.watch_queues(lambda: queue_stats(deps))
    try:
        app = create_app(settings, deps, metrics=metrics)
    except BoltError as exc:
        engine.dispose()
        return fail(f"Slack did not accept SLACK_BOT_TOKEN ({exc}); {SETUP_HINT}")
    except OSError as exc:  # no network, DNS, a proxy or firewall in the way
        engine.dispose()
        reason = getattr(exc, "reason", None) or exc
        return fail(f"cannot reach Slack at {settings.slack_api_url} ({reason}); check this "
                    "machine's network and proxy settings (and SLACK_API_URL), then start again")
    # The inbox worker, the planner and the sender run on the scheduler; they start at once
    # on what an earlier run left (stored events, queued writes).
    scheduler = start_scheduler(deps, options, metrics=metrics)
    # Requests posted while the bot was down: read in the background, serving starts now.
    threading.Thread(target=_catch_up, args=(deps,), name="catch-up", daemon=True).start()
    # SIGTERM (a deploy, `docker stop`) ends like Ctrl-C: `run_bot` then lets in-flight
    # deliveries finish and stops the scheduler instead of the process vanishing mid-write.
    # (uvicorn handles the signal itself, then raises it again once it stopped serving: this
    # handler catches that.)
    signal.signal(signal.SIGTERM, interrupt)
    health = _health_of(scheduler.health, queue_health(deps, options.holder))
    return _RunningBot(settings, deps, app, registry, scheduler, health)


def _serve_socket_mode(bot: _RunningBot) -> int:
    """Connect out to Slack; /healthz and /metrics are still served over HTTP."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.cli import fail
    from bot.config import SETUP_HINT
    from bot.server import BackgroundServer, create_server

    settings = bot.settings
    log.info("connecting to Slack in Socket Mode")
    try:
        monitor = BackgroundServer(
            create_server(bot.app, bot.deps, registry=bot.registry, health=bot.health),
            host=settings.host, port=settings.port).start()
    except OSError as exc:  # the port is taken, the address is not this machine's
        return fail(f"cannot serve /healthz on {settings.host}:{settings.port} "
                    f"({exc.strerror or exc}); set PORT (and HOST) to a free one")
    log.info("serving /healthz and /metrics on %s:%s", settings.host, settings.port)
    handler: _SocketMode = SocketModeHandler(bot.app, settings.slack_app_token)
    try:
        handler.start()
    except SlackApiError as exc:
        return fail(f"Slack did not accept SLACK_APP_TOKEN "
                    f"({exc.response.get('error')}); {SETUP_HINT}")
    except KeyboardInterrupt:
        log.info("stopping: closing the Socket Mode connection")
        handler.close()
    finally:
        monitor.stop()
    return 0


class _SocketMode(Protocol):
    """What `slabot run` uses of Bolt's SocketModeHandler (whose methods are untyped)."""

    def start(self) -> None: ...

    def close(self) -> None: ...


def _serve_http(bot: _RunningBot) -> int:
    """Serve Slack's requests (and /healthz, /metrics, /portal) until stopped."""
    from bot.server import create_server, serve

    settings = bot.settings
    asgi = create_server(bot.app, bot.deps, registry=bot.registry, health=bot.health)
    log.info("serving Slack requests on %s:%s at /slack/events", settings.host, settings.port)
    try:
        serve(asgi, settings.port, host=settings.host, log_level=settings.log_level)
    except KeyboardInterrupt:
        log.info("stopping: finishing deliveries and the scheduler")
    return 0


Health = Callable[[], dict[str, Any]]


def _health_of(*parts: Health | None) -> Health:
    """One /healthz extension from several: their fields merged, "ok" only if all are."""
    checks = [part for part in parts if part is not None]

    def health() -> dict[str, Any]:
        merged: dict[str, Any] = {}
        ok = True
        for check in checks:
            found = check()
            ok = ok and found.pop("ok", True) is not False
            merged.update(found)
        return {**merged, "ok": ok}

    return health


def _catch_up(deps: Deps) -> None:
    from commands.catchup import catch_up

    try:
        catch_up(deps)
    except Exception:  # the database went away at start, say: intake goes on regardless
        log.exception("catch-up after start failed")
