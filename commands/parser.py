"""The `/sla` argument parser: pure functions from command text to typed arguments.

Nothing here touches Slack or the database. Every bad input raises
`commands.errors.UsageError` carrying the verb's usage line, so the reply can show the
right form. Mentions arrive escaped (`<#C123|name>`, `<@U123>`, `<@U123|name>`) because the
manifest sets `should_escape`; plain `#name` and `@name` are accepted too.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.errors import UsageError
from commands.reporting import Period, ReportError, parse_period
from commands.text import clip as clip_text
from sla.durations import DurationError, format_business_duration, parse_duration
from sla.policy import MAX_TARGET, Metric, PolicyError, Priority

# A Slack escape is one token even if a display name inside it has spaces.
_TOKEN = re.compile(r"<[^>]*>|[^\s<]+")
_CHANNEL_ESCAPE = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>$")
_USER_ESCAPE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_TICKET_KEY = re.compile(r"^(?:SLA-?)?#?(\d{1,9})$", re.IGNORECASE)
_PUBLIC_FLAG = "public"


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

    def mention(self) -> str:
        """How to show it back in Slack (a live link when the id is known)."""
        return f"<#{self.id}>" if self.id else f"#{self.name}"


@dataclass(frozen=True)
class UserRef:
    """A user named in a command: an id from an escape, or only a plain name."""

    id: str | None
    name: str | None

    def mention(self) -> str:
        """How to show it back in Slack (a live link when the id is known)."""
        return f"<@{self.id}>" if self.id else f"@{self.name}"


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
    match = _CHANNEL_ESCAPE.match(token)
    if match:
        return ChannelRef(id=match.group(1), name=match.group(2) or None)
    if token.startswith("#") and _PLAIN_NAME.match(token[1:].lower()):
        return ChannelRef(id=None, name=token[1:].lower())
    raise UsageError(f"`{clip(token)}` is not a channel: write it as #channel", usage)


def parse_user(token: str, usage: str) -> UserRef:
    """Read `<@U123|name>`, `<@U123>` or `@name`."""
    match = _USER_ESCAPE.match(token)
    if match:
        return UserRef(id=match.group(1), name=match.group(2) or None)
    if token.startswith("@") and _PLAIN_NAME.match(token[1:].lower()):
        return UserRef(id=None, name=token[1:].lower())
    raise UsageError(f"`{clip(token)}` is not a person: write it as @name", usage)


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
    except ReportError as exc:
        raise UsageError(str(exc), usage) from None


def _no_extra(args: tuple[str, ...], allowed: int, usage: str) -> None:
    if len(args) > allowed:
        extra = " ".join(args[allowed:])
        raise UsageError(f"I did not expect `{clip(extra)}` here", usage)


# -- per-verb arguments -----------------------------------------------------------------------


def parse_track(args: tuple[str, ...], usage: str) -> Priority | None:
    """`track [P1..P4]`: the default priority of new tickets in the channel, if given."""
    _no_extra(args, 1, usage)
    return parse_priority(args[0], usage) if args else None


def parse_no_args(args: tuple[str, ...], usage: str) -> None:
    """Verbs that take nothing (`untrack`, `policy`)."""
    _no_extra(args, 0, usage)


STATUS_PERIODS = {"7d": 7, "30d": 30, "90d": 90}


@dataclass(frozen=True)
class StatusArgs:
    """`status [7d|30d|90d] [all]`."""

    days: int = 7
    workspace: bool = False


def parse_status(args: tuple[str, ...], usage: str) -> StatusArgs:
    """Read the period (default 7 days) and the `all` switch (whole workspace)."""
    days, workspace, seen_period = 7, False, False
    for token in args:
        word = token.lower()
        if word == "all" and not workspace:
            workspace = True
        elif word in STATUS_PERIODS and not seen_period:
            days, seen_period = STATUS_PERIODS[word], True
        else:
            raise UsageError(f"`{clip(token)}` is not a period: use 7d, 30d or 90d", usage)
    return StatusArgs(days=days, workspace=workspace)


class ListFilter(StrEnum):
    """Which tickets `/sla list` shows."""

    OPEN = "open"
    AT_RISK = "at-risk"
    BREACHED = "breached"
    MINE = "mine"


def parse_list(args: tuple[str, ...], usage: str) -> ListFilter:
    """Read the list filter (default `open`)."""
    _no_extra(args, 1, usage)
    if not args:
        return ListFilter.OPEN
    word = args[0].lower().replace("_", "-")
    if word == "atrisk":
        word = "at-risk"
    try:
        return ListFilter(word)
    except ValueError:
        choices = ", ".join(f.value for f in ListFilter)
        raise UsageError(f"`{clip(args[0])}` is not a list filter: use {choices}", usage) from None


def parse_ticket_ref(args: tuple[str, ...], usage: str) -> int:
    """`ticket SLA-42`: exactly one ticket key."""
    if not args:
        raise UsageError("which ticket? Name it like SLA-42", usage)
    _no_extra(args, 1, usage)
    return parse_ticket_number(args[0], usage)


@dataclass(frozen=True)
class TicketActionArgs:
    """`resolve|pause|resume|reopen SLA-42 [reason]`."""

    number: int
    reason: str | None


def parse_ticket_action(args: tuple[str, ...], usage: str) -> TicketActionArgs:
    """A ticket key followed by an optional free-text reason."""
    if not args:
        raise UsageError("which ticket? Name it like SLA-42", usage)
    reason = " ".join(args[1:]).strip() or None
    return TicketActionArgs(number=parse_ticket_number(args[0], usage), reason=reason)


@dataclass(frozen=True)
class PriorityArgs:
    """`priority SLA-42 P1`."""

    number: int
    priority: Priority


def parse_set_priority(args: tuple[str, ...], usage: str) -> PriorityArgs:
    """A ticket key and the new priority."""
    if len(args) < 2:
        raise UsageError("name the ticket and the new priority", usage)
    _no_extra(args, 2, usage)
    return PriorityArgs(parse_ticket_number(args[0], usage), parse_priority(args[1], usage))


_METRIC_NAMES = {
    "first-response": Metric.FIRST_RESPONSE,
    "first_response": Metric.FIRST_RESPONSE,
    "response": Metric.FIRST_RESPONSE,
    "resolution": Metric.RESOLUTION,
    "resolve": Metric.RESOLUTION,
    "next-response": Metric.NEXT_RESPONSE,
    "next_response": Metric.NEXT_RESPONSE,
}
_OFF = {"off", "none"}


@dataclass(frozen=True)
class PolicySetArgs:
    """`policy set P1 first-response=15m resolution=4h [next-response=1h|off]`."""

    priority: Priority
    targets: dict[Metric, timedelta | None]


def parse_policy_set(args: tuple[str, ...], usage: str) -> PolicySetArgs:
    """A priority and at least one `metric=duration` pair (`next-response=off` switches it off)."""
    if not args:
        raise UsageError("which priority? Start with P1..P4", usage)
    priority = parse_priority(args[0], usage)
    targets: dict[Metric, timedelta | None] = {}
    for token in args[1:]:
        name, sep, value = token.partition("=")
        metric = _METRIC_NAMES.get(name.lower())
        if not sep or metric is None:
            raise UsageError(
                f"`{clip(token)}` is not a target: use first-response=15m, resolution=4h "
                "or next-response=1h",
                usage,
            )
        if metric in targets:
            raise UsageError(f"{clip(name)} is given twice", usage)
        if metric is Metric.NEXT_RESPONSE and value.lower() in _OFF:
            targets[metric] = None
        else:
            targets[metric] = parse_duration_arg(value, name.lower(), usage)
    if not targets:
        raise UsageError(f"what should {priority} change? Give at least one target", usage)
    return PolicySetArgs(priority=priority, targets=targets)


@dataclass(frozen=True)
class NudgesArgs:
    """`policy nudges 50% 80% [re-escalate=2h|off]`; the breach (100%) is always nudged.

    `fractions` empty means keep the thresholds; `set_reescalate` False means keep the
    re-escalation interval (`reescalate` None with `set_reescalate` switches it off).
    """

    fractions: tuple[float, ...]
    reescalate: timedelta | None = None
    set_reescalate: bool = False


def parse_policy_nudges(args: tuple[str, ...], usage: str) -> NudgesArgs:
    """Percentages of the target (1-100) and an optional re-escalation interval."""
    fractions: list[float] = []
    reescalate: timedelta | None = None
    set_reescalate = False
    for token in args:
        name, sep, value = token.partition("=")
        if not sep:
            fractions.append(_parse_percent(token, usage))
            continue
        if name.lower().replace("_", "-") not in ("re-escalate", "reescalate"):
            raise UsageError(f"`{clip(token)}` is not a nudge setting: use re-escalate=2h", usage)
        if set_reescalate:
            raise UsageError("re-escalate is given twice", usage)
        set_reescalate = True
        if value.lower() not in _OFF:
            reescalate = parse_duration_arg(value, "re-escalate", usage)
    if not fractions and not set_reescalate:
        raise UsageError("give the nudge thresholds as percentages, like 50% 80%", usage)
    if len(set(fractions)) != len(fractions):
        raise UsageError("each threshold may appear once", usage)
    return NudgesArgs(
        fractions=tuple(sorted(fractions)), reescalate=reescalate, set_reescalate=set_reescalate
    )


def _parse_percent(token: str, usage: str) -> float:
    text = token.rstrip("%")
    try:
        percent = float(text)
    except ValueError:
        raise UsageError(f"`{clip(token)}` is not a percentage: write it like 80%", usage) from None
    if not (math.isfinite(percent) and 0 < percent <= 100):
        raise UsageError(f"`{clip(token)}`: a nudge threshold must be between 1% and 100%", usage)
    return percent / 100


def parse_policy_credits(args: tuple[str, ...], usage: str) -> tuple[tuple[float, float], ...]:
    """`95%=5% 90%=10%`: (below %, credit %) pairs, most lenient first; `off` gives none."""
    if len(args) == 1 and args[0].lower() in _OFF:
        return ()
    if not args:
        raise UsageError("give the credit tiers as compliance%=credit%, like 95%=5%", usage)
    tiers: dict[float, float] = {}
    for token in args:
        below, sep, credit = token.partition("=")
        if not sep:
            raise UsageError(
                f"`{clip(token)}` is not a credit tier: write it like 95%=5% (below 95% "
                "compliance, 5% credit)", usage)
        below_percent = _parse_share(below, token, "compliance", usage)
        credit_percent = _parse_share(credit, token, "credit", usage)
        if below_percent in tiers:
            raise UsageError(f"{below_percent:g}% is given twice", usage)
        tiers[below_percent] = credit_percent
    ordered = sorted(tiers.items(), key=lambda item: -item[0])
    for (_, more_lenient), (below, credit) in pairwise(ordered):
        if credit < more_lenient:
            raise UsageError(
                f"below {below:g}% the credit ({credit:g}%) must be at least that of the tier "
                f"above it ({more_lenient:g}%)", usage)
    return tuple(ordered)


def _parse_share(text: str, token: str, what: str, usage: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise UsageError(f"`{clip(token)}`: the {what} must be a percentage", usage) from None
    if not (math.isfinite(value) and 0 < value <= 100):
        raise UsageError(f"`{clip(token)}`: the {what} must be between 0% and 100%", usage)
    return value


@dataclass(frozen=True)
class HoursArgs:
    """`hours Mon-Fri 09:00-17:00 tz=Europe/Berlin [holidays=DE]` or `hours 24x7 [tz=...]`.

    `hours_text` is the weekly schedule as typed ("Mon-Fri 09:00-17:00, Sat 10:00-14:00"),
    read by `sla.calendar.BusinessCalendar.parse_hours`; None when nothing but tz/holidays
    was given (keep the current schedule). `holidays_given` False keeps the current holiday
    country; True with `country` None (`holidays=none`) removes it.
    """

    hours_text: str | None
    always: bool
    tz: str | None
    country: str | None
    subdiv: str | None
    holidays_given: bool = False


_HOLIDAY_CODE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,5}))?$")


def parse_hours(args: tuple[str, ...], usage: str) -> HoursArgs:
    """Split the schedule from the `tz=` and `holidays=` settings and check those two."""
    if not args:
        raise UsageError("give the working hours, like Mon-Fri 09:00-17:00, or 24x7", usage)
    schedule: list[str] = []
    tz = country = subdiv = None
    holidays_given = False
    for token in args:
        name, sep, value = token.partition("=")
        key = name.lower()
        if not sep:
            schedule.append(token)
        elif key in ("tz", "timezone"):
            tz = _parse_timezone(value, usage)
        elif key == "holidays":
            country, subdiv = _parse_holidays(value, usage)
            holidays_given = True
        else:
            raise UsageError(
                f"`{clip(token)}` is not an hours setting: use tz=... or holidays=..", usage
            )
    text = " ".join(schedule).strip() or None
    always = text is not None and text.lower().replace(" ", "") in ("24x7", "24/7", "always")
    return HoursArgs(
        hours_text=None if always else text, always=always, tz=tz, country=country,
        subdiv=subdiv, holidays_given=holidays_given,
    )


def _parse_timezone(value: str, usage: str) -> str:
    if value.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        # People type `europe/berlin` or `AMERICA/NEW_YORK`; the IANA names are case-sensitive.
        canonical = _zone_names_by_lower_case().get(value.lower())
        if canonical is None:
            raise UsageError(
                f"`{clip(value)}` is not a time zone: use an IANA name like Europe/Berlin", usage
            ) from None
        return canonical
    return value


@functools.cache
def _zone_names_by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _parse_holidays(value: str, usage: str) -> tuple[str | None, str | None]:
    if value.lower() in _OFF:
        return None, None
    match = _HOLIDAY_CODE.match(value)
    if not match:
        raise UsageError(
            f"`{clip(value)}` is not a country: use a code like DE, US or DE-BY (or holidays=none)",
            usage,
        )
    subdiv = match.group(2).upper() if match.group(2) else None
    return match.group(1).upper(), subdiv


@dataclass(frozen=True)
class EscalateArgs:
    """`escalate #channel @user ...`: where breaches go (a channel, managers, or both)."""

    channel: ChannelRef | None
    users: tuple[UserRef, ...]
    clear: bool = False


def parse_escalate(args: tuple[str, ...], usage: str) -> EscalateArgs:
    """At most one channel and any number of people; `off` clears both."""
    if not args:
        raise UsageError("name a channel and/or people, like #support-leads @ann", usage)
    if len(args) == 1 and args[0].lower() in _OFF:
        return EscalateArgs(channel=None, users=(), clear=True)
    channel: ChannelRef | None = None
    users: list[UserRef] = []
    for raw in args:
        token = raw.strip(",")
        if not token:
            continue
        if token.startswith(("<#", "#")):
            if channel is not None:
                raise UsageError("breaches go to one escalation channel; name only one", usage)
            channel = parse_channel(token, usage)
        elif token.startswith(("<@", "@")):
            user = parse_user(token, usage)
            if user not in users:
                users.append(user)
        else:
            raise UsageError(f"`{clip(token)}` is neither a #channel nor an @person", usage)
    return EscalateArgs(channel=channel, users=tuple(users))
