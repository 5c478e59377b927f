"""The `/sla` grammar every verb shares: the command line, mentions, priorities, ticket
keys, durations, periods. Each verb's own arguments are read beside it (its module).

Pure functions from text to typed values: nothing here touches Slack or the database. Every
bad input raises `commands.errors.UsageError` carrying the verb's usage line, so the reply
can show the right form. Mentions arrive escaped (`<#C123|name>`, `<@U123>`,
`<@U123|name>`) because the manifest sets `should_escape`; plain `#name` and `@name` are
accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.errors import UsageError
from commands.text import clip as clip_text
from sla.durations import DurationError, format_business_duration, parse_duration
from sla.periods import Period, PeriodError, parse_period
from sla.targets import MAX_TARGET, PolicyError, Priority

# A Slack escape is one token even if a display name inside it has spaces.
_TOKEN = re.compile(r"<[^>]*>|[^\s<]+")
_CHANNEL_ESCAPE = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>$")
_USER_ESCAPE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_TICKET_KEY = re.compile(r"^(?:SLA-?)?#?(\d{1,9})$", re.IGNORECASE)
_PUBLIC_FLAG = "public"
# Words that switch a setting off (`next-response=off`, `/sla escalate off`).
OFF_WORDS = frozenset({"off", "none"})


def clip(text: str, limit: int = 40) -> str:
    """`text` shortened for echoing back in an error message (people paste whole pages)."""
    return clip_text(text, limit)


@dataclass(frozen=True)
class CommandLine:
    """`/sla <verb> <args...>` split into its verb, arguments and the `public` flag."""

    verb: str
    args: tuple[str, ...]
    public: bool = False


@dataclass(frozen=True)
class ChannelRef:
    """A channel named in a command: an id from an escape, or only a plain name."""

    id: str | None
    name: str | None


@dataclass(frozen=True)
class UserRef:
    """A user named in a command: an id from an escape, or only a plain name."""

    id: str | None
    name: str | None


def tokenize(text: str) -> list[str]:
    """Split command text into words, keeping each Slack escape (`<@U1|ann>`) whole."""
    return _TOKEN.findall(text or "")


def parse_command_line(text: str) -> CommandLine:
    """Read the verb (lower-cased) and arguments; `public` as the first or last word is a flag."""
    tokens = tokenize(text)
    public = False
    if tokens and tokens[0].lower() == _PUBLIC_FLAG:
        public = True
        tokens = tokens[1:]
    if tokens and tokens[-1].lower() == _PUBLIC_FLAG:
        public = True
        tokens = tokens[:-1]
    if not tokens:
        return CommandLine(verb="help", args=(), public=public)
    return CommandLine(verb=tokens[0].lower(), args=tuple(tokens[1:]), public=public)


# -- mentions ---------------------------------------------------------------------------------


def parse_channel(token: str, usage: str) -> ChannelRef:
    """Read `<#C123|name>`, `<#C123>` or `#name`."""
    found = _mention(token, _CHANNEL_ESCAPE, "#")
    if found is None:
        raise UsageError(f"`{clip(token)}` is not a channel: write it as #channel", usage)
    return ChannelRef(*found)


def parse_user(token: str, usage: str) -> UserRef:
    """Read `<@U123|name>`, `<@U123>` or `@name`."""
    found = _mention(token, _USER_ESCAPE, "@")
    if found is None:
        raise UsageError(f"`{clip(token)}` is not a person: write it as @name", usage)
    return UserRef(*found)


def _mention(token: str, escape: re.Pattern[str],
             sigil: str) -> tuple[str | None, str | None] | None:
    """(id, name) of an escaped mention, (None, name) of a typed `#name`/`@name`, else None."""
    match = escape.match(token)
    if match:
        return match.group(1), match.group(2) or None
    if token.startswith(sigil) and _PLAIN_NAME.match(token[1:].lower()):
        return None, token[1:].lower()
    return None


# -- small values -----------------------------------------------------------------------------


def parse_priority(token: str, usage: str) -> Priority:
    """Read `P1`..`P4` (also `p2` or `3`)."""
    try:
        return Priority.parse(token)
    except PolicyError:
        raise UsageError(
            f"`{clip(token)}` is not a priority: use P1, P2, P3 or P4", usage
        ) from None


def parse_ticket_number(token: str, usage: str) -> int:
    """Read a ticket key such as `SLA-42` (also `sla-42`, `42`) into its number."""
    match = _TICKET_KEY.match(token)
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"`{clip(token)}` is not a ticket key: write it like SLA-42", usage)
    return int(match.group(1))


def parse_duration_arg(text: str, what: str, usage: str) -> timedelta:
    """Read a positive duration such as `15m`, `4h`, `1h30m` for the setting `what`."""
    try:
        duration = parse_duration(text)
    except DurationError as exc:
        raise UsageError(f"{what}: {exc}", usage) from None
    if duration <= timedelta(0):
        raise UsageError(f"{what} must be longer than zero, got `{clip(text)}`", usage)
    if duration > MAX_TARGET:
        raise UsageError(
            f"{what} can be at most {format_business_duration(MAX_TARGET)} of business time, "
            f"got `{clip(text)}`", usage,
        )
    return duration


def parse_period_arg(text: str | None, *, tz: str, now: datetime, usage: str) -> Period:
    """Read a report period (`7d`, `30d`, `90d`, `YYYY-MM`; None: the default 30 days)."""
    try:
        return parse_period(text, tz=tz, now=now)
    except PeriodError as exc:
        raise UsageError(str(exc), usage) from None


def no_extra(args: tuple[str, ...], allowed: int, usage: str) -> None:
    """Refuse words after the first `allowed` ones, quoting them."""
    if len(args) > allowed:
        extra = " ".join(args[allowed:])
        raise UsageError(f"I did not expect `{clip(extra)}` here", usage)


def parse_no_args(args: tuple[str, ...], usage: str) -> None:
    """Verbs that take nothing (`untrack`, `policy`)."""
    no_extra(args, 0, usage)


def parse_ticket_ref(args: tuple[str, ...], usage: str) -> int:
    """`ticket SLA-42`: exactly one ticket key."""
    if not args:
        raise UsageError("which ticket? Name it like SLA-42", usage)
    no_extra(args, 1, usage)
    return parse_ticket_number(args[0], usage)
