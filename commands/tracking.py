"""What becomes a ticket: `/sla track [P1..P4]` and `/sla untrack` for a whole channel, and
one message tracked by the message shortcut or a :ticket: reaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from commands import intake
from commands.deps import Deps
from commands.directory import bot_is_member
from commands.parser import no_extra, parse_no_args, parse_priority
from commands.request import Message, Verb, VerbRequest
from sla.targets import Priority
from storage import repositories as repo
from storage.models import stored_id

log = logging.getLogger(__name__)

TRACK_USAGE = "/sla track [P1..P4]"
UNTRACK_USAGE = "/sla untrack"
# Replies in a thread count toward the ticket of the thread's first message (they are matched
# by the thread's ts), so a reply tracked on its own would never see its answers.
THREAD_REPLY_REFUSAL = (
    ":thread: This is a reply in a thread, and replies count toward the thread's first "
    "message. Please track the thread's first message instead."
)


@dataclass(frozen=True)
class SlackMessage:
    """A message as Slack showed it: its ts, its author (None: unknown), its text, its
    thread, and whether a bot posted it."""

    ts: str | None
    user_id: str | None
    text: str
    thread_ts: str | None = None
    from_bot: bool = False

    @property
    def in_thread(self) -> bool:
        """A reply inside a thread (a thread's first message has thread_ts == ts)."""
        return bool(self.thread_ts) and self.thread_ts != self.ts


# -- grammar ----------------------------------------------------------------------------------


def parse_track(args: tuple[str, ...], usage: str) -> Priority | None:
    """`track [P1..P4]`: the default priority of new tickets in the channel, if given."""
    no_extra(args, 1, usage)
    return parse_priority(args[0], usage) if args else None


def handle_track(request: VerbRequest) -> Message:
    """Start tracking the channel: new top-level messages become tickets."""
    priority = parse_track(request.args, TRACK_USAGE)
    request.require_admin("turn ticket tracking on")
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        channel = repo.track_channel(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id,
            name=request.channel_name, default_priority=priority, at=request.deps.clock.now(),
        )
        policy = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id
        )
        default = channel.default_priority or policy.default_priority
    text = (
        f":ticket: Tracking <#{request.channel_id}>: every new message here becomes an SLA "
        f"ticket (default priority {default}; words like _urgent_ or _outage_ raise it). "
        "See the targets with `/sla policy`."
    )
    if bot_is_member(request.deps, request.channel_id) is False:
        text += "\n:point_right: Invite me first so I can see the messages: `/invite @slabot`."
    return Message(text)


def handle_untrack(request: VerbRequest) -> Message:
    """Stop tracking the channel; open tickets keep their clocks."""
    parse_no_args(request.args, UNTRACK_USAGE)
    request.require_admin("turn ticket tracking off")
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        stopped = repo.untrack_channel(
            session=session, workspace_id=stored_id(workspace), channel_id=request.channel_id
        )
    if not stopped:
        return Message(f"<#{request.channel_id}> was not tracked; nothing changed.")
    return Message(
        text=f"Stopped tracking <#{request.channel_id}>. New messages are no longer tickets; "
        "open tickets keep running until they are resolved."
    )


def track_by_shortcut(deps: Deps, *, team_id: str, channel_id: str,
                      message: SlackMessage) -> Message:
    """Track the message the shortcut was used on; the answer tells which ticket it is."""
    if message.from_bot or not message.user_id:
        return Message("Only messages written by people can become SLA tickets.")
    if message.in_thread:
        return Message(THREAD_REPLY_REFUSAL)
    result = None if message.ts is None else intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=message.ts,
        user_id=message.user_id, text=message.text, source="shortcut",
    )
    if result is None:
        return Message("That message has no Slack timestamp; it cannot become a ticket.")
    key = result.ticket.key
    if result.created:
        return Message(f":ticket: Tracking this message as *{key}* ({result.clock.priority}).")
    return Message(f"This message is already tracked as *{key}*.")


def track_by_reaction(deps: Deps, *, team_id: str, channel_id: str, ts: str,
                      author: str | None, message: SlackMessage | None) -> Message | None:
    """Track the message a :ticket: reaction points at (`message` None: Slack would not show
    it, `author` comes from the reaction); an answer only when the reactor must be told."""
    if message is not None and message.from_bot:
        return None  # the bot's own cards and other bots' posts are not requests
    if not author:
        log.info("cannot track %s/%s: its author is unknown", channel_id, ts)
        return None
    if message is not None and message.in_thread:
        return Message(THREAD_REPLY_REFUSAL)
    intake.open_ticket(
        deps, team_id=team_id, channel_id=channel_id, message_ts=ts, user_id=author,
        text=message.text if message is not None else "", source="reaction",
    )
    return None


VERBS = (
    Verb(
        name="track",
        usage=(TRACK_USAGE,),
        summary="make every new message in this channel an SLA ticket",
        details="The optional priority is the default for new tickets here (else the "
        "policy's default). A :ticket: reaction or the message shortcut also tracks a single "
        "message anywhere.",
        handler=handle_track,
        admin_only=True,
    ),
    Verb(
        name="untrack",
        usage=(UNTRACK_USAGE,),
        summary="stop turning messages in this channel into tickets",
        handler=handle_untrack,
        admin_only=True,
    ),
)
