"""`slabot` command line: migrate | manifest (and run, report, rollups: bot/*_cli.py; demo).

Only this entry point reads `.env`, builds the engine and starts background work; everything
else receives what it needs. Configuration problems print one clear message and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import TYPE_CHECKING

from bot import report_cli, rollups_cli, run_cli

if TYPE_CHECKING:

    from bot.config import Settings

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


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Alembic narrates every migration step at INFO; the bot says in one line what it did.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def settings_or_exit() -> Settings | int:
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
    except database_errors() as exc:
        return fail(cannot_open_database(url, exc))
    if before == after:
        print(f"already up to date ({after}, {shown_url(url)})")
    else:
        print(f"migrated {before or '(empty)'} -> {after} ({shown_url(url)})")
    return 0


def database_errors() -> tuple[type[BaseException], ...]:
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


def interrupt(signum: int, frame: FrameType | None) -> None:
    """A signal handler that stops the process as Ctrl-C does (finally blocks run)."""
    raise KeyboardInterrupt


SUBCOMMANDS: dict[str, Subcommand] = {
    "run": Subcommand("run the bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)",
                      _no_arguments, run_cli.run),
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
