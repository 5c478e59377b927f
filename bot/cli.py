"""`slabot` command line: run | migrate | manifest (and report, rollups: bot/*_cli.py).

Only this entry point reads `.env`, builds the engine and starts background work; everything
else receives what it needs. Configuration problems print one clear message and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from bot import report_cli, rollups_cli

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from slack_bolt import App

    from bot.config import Settings
    from bot.scheduler import SchedulerHandle, SchedulerOptions
    from commands.deps import Deps

log = logging.getLogger("slabot")

EXIT_CONFIG = 2


@dataclass(frozen=True)
class Subcommand:
    """One `slabot <name>`: its help line, its arguments and what it runs (returns exit code)."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def load_dotenv_from_cwd() -> None:
    """Load `.env` from the directory the bot is started in (the environment wins).

    python-dotenv's default search starts beside the calling module, which for an installed
    package is site-packages, not where the user keeps their `.env`.
    """
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)


def load_settings() -> Settings:
    """Settings from `.env` (if present) and the environment; the environment wins."""
    from bot.config import Settings

    load_dotenv_from_cwd()
    return Settings.from_env()


def fail(message: str) -> int:
    """Say what is wrong on stderr in one `slabot:` line; the exit code of a bad setup."""
    print(f"slabot: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Alembic narrates every migration step at INFO; the bot says in one line what it did.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _settings_or_exit() -> Settings | int:
    from bot.config import SETUP_HINT, SettingsError

    try:
        return load_settings()
    except SettingsError as exc:
        lines = list(exc.problems)
        if exc.missing:
            hint = (
                "set " + " and ".join(exc.missing) + " in the environment or in .env "
                '(copy .env.example); README section "Create the Slack app" says where '
                "to find them; or try the bot without Slack first: slabot demo"
            )
            if len(lines) == 1:  # nothing but the Slack settings: one line says it all
                return fail(f"cannot start: {lines[0]}: {hint}")
            lines.append(hint)
        else:
            lines.append(SETUP_HINT)
        return fail("cannot start: " + "\n  ".join(lines))


def run_migrate(args: argparse.Namespace) -> int:
    """Apply pending database migrations."""
    from bot.config import shown_url
    from storage import migrate

    url = args.database_url or load_database_url()
    try:
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    except _database_errors() as exc:
        return fail(cannot_open_database(url, exc))
    if before == after:
        print(f"already up to date ({after}, {shown_url(url)})")
    else:
        print(f"migrated {before or '(empty)'} -> {after} ({shown_url(url)})")
    return 0


def _database_errors() -> tuple[type[BaseException], ...]:
    """What opening or migrating a database raises for a bad URL or an unreachable server."""
    from sqlalchemy.exc import SQLAlchemyError

    # ValueError: storage.db refuses URLs of databases it does not support (mysql://...);
    # ImportError: a dialect whose driver is not installed.
    return (SQLAlchemyError, ValueError, ImportError)


def cannot_open_database(url: str, exc: BaseException) -> str:
    """One line naming the database (password masked) and the driver's first line of reason."""
    from bot.config import shown_url

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = reason[0] if reason else exc.__class__.__name__
    password = _password_of(url)
    if password:
        # Some messages quote the URL they could not use; the password never leaves.
        text = text.replace(password, "***")
    return f"cannot open the database {shown_url(url)}: {text}"


def _password_of(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password or None
    except (ArgumentError, ValueError):
        return None


def load_database_url() -> str:
    """DATABASE_URL from `.env`/environment, else the default SQLite file."""
    from bot.config import DatabaseSettings

    load_dotenv_from_cwd()
    return DatabaseSettings.from_env().database_url


def run_manifest(args: argparse.Namespace) -> int:
    """Print the Slack app manifest (YAML)."""
    from urllib.parse import urlsplit

    from bot.manifest import manifest_yaml

    if not args.socket_mode:
        parts = urlsplit(args.url or "")
        if parts.scheme != "https" or not parts.hostname:
            return fail("give the bot's public https URL (--url https://slabot.example.com), "
                        "or --socket-mode for a bot without one; Slack only calls https URLs")
    sys.stdout.write(manifest_yaml(args.url, socket_mode=args.socket_mode))
    return 0


def _configure_manifest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="public base URL of the bot, e.g. https://slabot.example.com")
    parser.add_argument("--socket-mode", action="store_true",
                        help="manifest for Socket Mode (no public URL)")


def _configure_migrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="default: DATABASE_URL or sqlite:///slabot.db")


def run_bot(args: argparse.Namespace) -> int:
    """Migrate, connect to Slack, start the scheduler and serve until stopped."""
    settings = _settings_or_exit()
    if isinstance(settings, int):
        return settings
    from bot.scheduler import SchedulerConfigError, SchedulerOptions

    try:
        options = SchedulerOptions.from_env()
    except SchedulerConfigError as exc:  # a bad SLABOT_SCHEDULER_* variable, named in exc
        return fail(f"cannot start: {exc}")
    _configure_logging(settings.log_level)
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
    except _database_errors() as exc:
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


def interrupt(signum: int, frame: FrameType | None) -> None:
    """A signal handler that stops the process as Ctrl-C does (finally blocks run)."""
    raise KeyboardInterrupt


SUBCOMMANDS: dict[str, Subcommand] = {
    "run": Subcommand("run the bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)",
                      _no_arguments, run_bot),
    "migrate": Subcommand("apply pending database migrations", _configure_migrate, run_migrate),
    "manifest": Subcommand("print the Slack app manifest (YAML)", _configure_manifest,
                           run_manifest),
    "report": Subcommand("print the SLA compliance report (and credits owed) from the database",
                         report_cli.configure, report_cli.run),
    "rollups": Subcommand(rollups_cli.HELP, rollups_cli.configure, rollups_cli.run),
    "demo": Subcommand("try the bot in a local Slack sandbox in your browser (no Slack needed)",
                       lambda parser: _demo().configure(parser), lambda args: _demo().run(args)),
}


def _demo() -> ModuleType:
    from bot.sandbox import demo

    return demo


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with one sub-parser per entry of SUBCOMMANDS."""
    parser = argparse.ArgumentParser(prog="slabot", description="Slack SLA bot")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, spec in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=spec.help, description=spec.help)
        spec.configure(child)
        child.set_defaults(run=spec.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `slabot` script."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
