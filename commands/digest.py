"""`/sla digest subscribe|unsubscribe|list|preview`: who gets the weekly digest, and when.

Sending it (the scheduled job's body, and `preview me`) is commands/digest_send.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import TypedDict

from sqlmodel import Session

from commands.digest_send import digest_content, post_digest
from commands.directory import is_member, require_postable
from commands.errors import UsageError
from commands.parser import parse_channel
from commands.permissions import is_admin
from commands.reporting import DigestData
from commands.request import Message, Result, Verb, VerbRequest
from commands.text import channel_mention, user_mention
from sla.periods import (
    DEFAULT_SLOT_TIME,
    DEFAULT_SLOT_WEEKDAY,
    WEEKDAYS,
    PeriodError,
    WeeklySlot,
    parse_weekly_slot,
)
from storage import repositories as repo
from storage.models import DigestSubscription, stored_id

USAGE = (
    "/sla digest subscribe [#channel|me] [mon 09:00] [scope: this channel|all]",
    "/sla digest unsubscribe [#channel|me|N]",
    "/sla digest list",
    "/sla digest preview [all] [me]",
)
SUBSCRIBE_USAGE, UNSUBSCRIBE_USAGE, _LIST_USAGE, PREVIEW_USAGE = USAGE


@dataclass(frozen=True)
class SubscribeArgs:
    """Who gets the digest, when, and about which tickets."""

    target_channel_id: str | None  # None: the user who asked (a direct message)
    weekday: int | None
    at: time | None
    all_channels: bool


@dataclass(frozen=True)
class DigestPreview(Result):
    """The digest of this channel (or all channels) as it would be sent now."""

    data: DigestData


def parse_subscribe(args: tuple[str, ...]) -> SubscribeArgs:
    """Read `[#channel|me] [mon 09:00] [scope: this channel|all]` in any order."""
    target, weekday, at, everything = None, None, None, False
    words = list(args)
    while words:
        token = words.pop(0)
        word = token.lower()
        if word == "me":
            target = None
        elif token.startswith(("<#", "#")):
            channel = parse_channel(token, SUBSCRIBE_USAGE)
            if channel.id is None:
                raise UsageError(
                    f"pick {token} from Slack's autocomplete so I get the channel's id",
                    SUBSCRIBE_USAGE,
                )
            target = channel.id
        elif word[:3] in WEEKDAYS and word.isalpha():
            weekday = _slot(word, "09:00").weekday
        elif ":" in word and word[0].isdigit():
            at = _slot("mon", word).at
        elif word.startswith("scope"):
            rest = word.removeprefix("scope").lstrip(":=")
            scope_word = rest or (words.pop(0).lower() if words else "")
            if scope_word == "all":
                everything = True
            elif scope_word == "this" and words and words[0].lower() == "channel":
                words.pop(0)
            elif scope_word not in ("channel", "this"):
                raise UsageError("scope is `this channel` or `all`", SUBSCRIBE_USAGE)
        elif word == "all":
            everything = True
        elif word == "this" and words and words[0].lower() == "channel":
            words.pop(0)
        else:
            raise UsageError(f"I did not expect `{token}` here", SUBSCRIBE_USAGE)
    return SubscribeArgs(target, weekday, at, everything)


def _slot(day: str, at: str) -> WeeklySlot:
    try:
        return parse_weekly_slot(day, at, tz="UTC")
    except PeriodError as exc:
        raise UsageError(str(exc), SUBSCRIBE_USAGE) from None


def subscription_slot(row: DigestSubscription) -> WeeklySlot | None:
    """The weekly slot of a subscription (None when it is scheduled by a cron expression)."""
    if row.weekday is None or row.time_of_day is None:
        return None
    hours, minutes = (int(part) for part in row.time_of_day.split(":"))
    return WeeklySlot(row.weekday, time(hours, minutes), row.tz)


# --- verbs ------------------------------------------------------------------------------------


def handle_digest(request: VerbRequest) -> Result:
    """Dispatch `/sla digest <sub-verb>`."""
    if not request.args:
        raise UsageError("say what to do with the digest", "\n".join(USAGE))
    sub, rest = request.args[0].lower(), request.args[1:]
    handlers = {
        "subscribe": _subscribe,
        "unsubscribe": _unsubscribe,
        "list": _list,
        "preview": _preview,
    }
    if sub not in handlers:
        raise UsageError(f"`{request.args[0]}` is not a digest action", "\n".join(USAGE))
    return handlers[sub](request, rest)


def _subscribe(request: VerbRequest, args: tuple[str, ...]) -> Message:
    parsed = parse_subscribe(args)
    if parsed.all_channels:
        request.require_admin("subscribe to the whole workspace's digest")
    if parsed.target_channel_id is not None:
        request.require_admin("send a digest to a channel")
        require_postable(request.deps, parsed.target_channel_id)
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        slot = WeeklySlot(
            DEFAULT_SLOT_WEEKDAY if parsed.weekday is None else parsed.weekday,
            DEFAULT_SLOT_TIME if parsed.at is None else parsed.at,
            workspace.tz,
        )
        wanted: _Wanted = {
            "target_channel_id": parsed.target_channel_id,
            "target_user_id": None if parsed.target_channel_id else request.user_id,
            "weekday": slot.weekday,
            "time_of_day": f"{slot.at:%H:%M}",
            "scope_channel_id": None if parsed.all_channels else request.channel_id,
        }
        existing = _same_subscription(session, workspace_id, wanted)
        if existing is None:
            row = repo.add_digest_subscription(
                session=session, workspace_id=workspace_id, tz=slot.tz,
                created_by=request.user_id, **wanted,
            )
            subscription_id = row.id
    who = f"<#{parsed.target_channel_id}>" if parsed.target_channel_id else "you"
    if existing is not None:
        # A second identical subscription would post every digest twice.
        subject = "you already get" if who == "you" else f"{who} already gets"
        return Message(
            text=f":information_source: {subject[0].upper()}{subject[1:]} this digest "
            f"(subscription {existing}), every {slot.label}.",
            public=False,
        )
    request.deps.wake_scheduler()
    about = "all channels" if parsed.all_channels else f"<#{request.channel_id}>"
    return Message(
        text=f":calendar: Subscribed {who} to the weekly SLA digest of {about}, every "
        f"{slot.label} (subscription {subscription_id}). `/sla digest preview` shows it now."
    )


def _unsubscribe_number(request: VerbRequest, number: int) -> Message:
    """Stop subscription `number` of `/sla digest list`: one's own, or a channel's (admins)."""
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        rows = repo.list_digest_subscriptions(session=session, workspace_id=stored_id(workspace))
        row = next((r for r in rows if r.id == number), None)
    # Someone else's personal digest reads like a missing one: nothing to learn from ids.
    if row is None or (row.target_channel_id is None and row.target_user_id != request.user_id):
        return Message(f":information_source: No digest subscription {number} of yours; "
                       "`/sla digest list` shows the numbers.", public=False)
    if row.target_channel_id is not None:
        request.require_admin("stop a channel's digest")  # users.info: outside the unit
    with request.deps.unit_of_work() as session:
        repo.remove_digest_subscription(session=session, subscription_id=stored_id(row))
    request.deps.wake_scheduler()
    return Message(f":wave: Removed digest subscription {number} ({_who(row)}, {_when(row)}).")


class _Wanted(TypedDict):
    """What makes two subscriptions the same (and what a new one is created with)."""

    target_channel_id: str | None
    target_user_id: str | None
    weekday: int
    time_of_day: str
    scope_channel_id: str | None


def _same_subscription(session: Session, workspace_id: int, wanted: _Wanted) -> int | None:
    """The id of an active subscription with the same target, scope and weekly slot."""
    for row in repo.list_digest_subscriptions(session=session, workspace_id=workspace_id):
        if row.cron is None and all(getattr(row, k) == v for k, v in wanted.items()):
            return row.id
    return None


def _unsubscribe(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if len(args) > 1:
        raise UsageError(f"I did not expect `{' '.join(args[1:])}` here", UNSUBSCRIBE_USAGE)
    if args and args[0].isdigit():
        return _unsubscribe_number(request, int(args[0]))
    target_channel = None
    if args and args[0].lower() != "me":
        channel = parse_channel(args[0], UNSUBSCRIBE_USAGE)
        if channel.id is None:
            raise UsageError(f"pick {args[0]} from Slack's autocomplete", UNSUBSCRIBE_USAGE)
        request.require_admin("stop a channel's digest")
        target_channel = channel.id
    removed = 0
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        for row in repo.list_digest_subscriptions(session=session, workspace_id=workspace_id):
            mine = (
                row.target_channel_id == target_channel
                if target_channel
                else row.target_user_id == request.user_id
            )
            if mine:
                removed += repo.remove_digest_subscription(
                    session=session, subscription_id=stored_id(row))
    if removed:
        request.deps.wake_scheduler()
    who = f"<#{target_channel}>" if target_channel else "you"
    if not removed:
        return Message(f":information_source: No digest subscription for {who}.", public=False)
    noun = "subscription" if removed == 1 else "subscriptions"
    return Message(f":wave: Removed {removed} digest {noun} for {who}.")


def _list(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if args:
        raise UsageError(f"I did not expect `{' '.join(args)}` here", _LIST_USAGE)
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        rows = repo.list_digest_subscriptions(session=session, workspace_id=stored_id(workspace))
    may_see = _visibility(request)
    lines = [
        f"• {row.id}: to {_who(row)} about "
        f"{channel_mention(row.scope_channel_id) if row.scope_channel_id else 'all channels'}"
        f", {_when(row)}"
        for row in rows
        if row.target_user_id == request.user_id or (
            row.target_channel_id is not None and may_see(row.target_channel_id)
            and (row.scope_channel_id is None or may_see(row.scope_channel_id)))
    ]
    if not lines:
        return Message(f"No digest subscriptions yet. Add one: `{SUBSCRIBE_USAGE}`")
    return Message("*Digest subscriptions*\n" + "\n".join(lines))


def _visibility(request: VerbRequest) -> Callable[[str], bool]:
    """Whether the asker may see a channel's subscriptions: admins see all, others the
    channels they are members of (asked once per channel, outside any unit of work)."""
    if is_admin(request.deps, request.user_id):
        return lambda channel_id: True
    known: dict[str, bool] = {}

    def may_see(channel_id: str) -> bool:
        if channel_id not in known:
            known[channel_id] = is_member(request.deps, channel_id, request.user_id)
        return known[channel_id]

    return may_see


def _preview(request: VerbRequest, args: tuple[str, ...]) -> Result:
    words = {a.lower() for a in args}
    if words - {"all", "me"}:
        raise UsageError(f"I did not expect `{' '.join(sorted(words - {'all', 'me'}))}` here",
                         PREVIEW_USAGE)
    if "all" in words:
        request.require_admin("preview the whole workspace's digest")
    scope_channel = None if "all" in words else request.channel_id
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id, tz = stored_id(workspace), workspace.tz
    if "me" in words:
        if request.digest_views is None:
            raise RuntimeError("`digest preview me` needs the digest views (bot/views)")
        sent = post_digest(
            request.deps, request.digest_views, workspace_id=workspace_id,
            scope_channel_id=scope_channel, tz=tz, slot_start=now, channel_id=None,
            user_id=request.user_id, key=f"digest-preview:{request.user_id}:{now.isoformat()}",
        )
        return Message(f":mailbox_with_mail: Sent the digest of {sent.data.scope} to you "
                       "in a direct message.", public=False)
    content = digest_content(
        request.deps, workspace_id=workspace_id, scope_channel_id=scope_channel, tz=tz,
        slot_start=now, now=now,
    )
    return DigestPreview(content.data)


def _who(row: DigestSubscription) -> str:
    if row.target_channel_id:
        return channel_mention(row.target_channel_id)
    return user_mention(row.target_user_id)


def _when(row: DigestSubscription) -> str:
    slot = subscription_slot(row)
    return f"every {slot.label}" if slot else f"cron `{row.cron}` ({row.tz})"

VERBS = (
    Verb(
        name="digest",
        usage=USAGE,
        summary="weekly compliance digest: subscribe, unsubscribe, list, preview",
        details="The digest compares last week's met % with the week before, lists breaches "
        "with links and causes, near misses, what missed most, tickets at risk now, the "
        "breach forecast (an estimate) and a chart of 8 weeks. Default: "
        "Monday 09:00 in the workspace's time zone, to you, about this channel. A channel "
        "target or `scope: all` is for admins.",
        handler=handle_digest,
    ),
)
