"""`/sla escalate #channel @user ...`: where this channel's breaches go.

Slack sends mentions escaped with their ids (the manifest sets `should_escape`); a plain
`#name` or `@name` someone typed by hand is looked up by name through the Web API.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.directory import require_postable, resolve_channel, resolve_users
from commands.errors import UsageError
from commands.parser import OFF_WORDS, ChannelRef, UserRef, clip, parse_channel, parse_user
from commands.request import Message, Verb, VerbRequest
from storage import repositories as repo
from storage.models import stored_id

USAGE = "/sla escalate #channel @user ..."
USAGE_OFF = "/sla escalate off"
# -- grammar ----------------------------------------------------------------------------------


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
    if len(args) == 1 and args[0].lower() in OFF_WORDS:
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


def configure_here(
    request: VerbRequest, *, escalation_channel_ids: list[str] | None = None,
    manager_user_ids: list[str] | None = None, responder_user_ids: list[str] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """Change the request channel's escalation channels, managers or responders (None keeps
    one as it is); returns all three as they are now."""
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = repo.configure_channel(
            session=session, workspace_id=stored_id(workspace), channel_id=request.channel_id,
            escalation_channel_ids=escalation_channel_ids, manager_user_ids=manager_user_ids,
            responder_user_ids=responder_user_ids,
        )
        return (list(row.escalation_channel_ids), list(row.manager_user_ids),
                list(row.responder_user_ids or ()))


def handle_escalate(request: VerbRequest) -> Message:
    """Set (or with `off` clear) the escalation channel and managers of this channel."""
    parsed = parse_escalate(request.args, USAGE)
    request.require_admin("change where breaches are escalated")
    channel_ids = [resolve_channel(request.deps, parsed.channel)] if parsed.channel else []
    for channel_id in channel_ids:
        require_postable(request.deps, channel_id)
    user_ids = resolve_users(request.deps, parsed.users)
    channels, managers, _ = configure_here(
        request,
        # Naming only people keeps the channel, and the other way round.
        escalation_channel_ids=channel_ids if parsed.clear or channel_ids else None,
        manager_user_ids=user_ids if parsed.clear or user_ids else None,
    )
    if not channels and not managers:
        return Message(f"Breaches in <#{request.channel_id}> are now only announced in "
                       "their thread.")
    where = [f"<#{c}>" for c in channels] + [f"<@{u}>" for u in managers]
    return Message(
        text=f":rotating_light: Breaches in <#{request.channel_id}> now go to "
        f"{', '.join(where)} (and the ticket's thread)."
    )


VERBS = (
    Verb(
        name="escalate",
        usage=(USAGE, USAGE_OFF),
        summary="choose where breaches go: an escalation channel and/or managers",
        details="Managers hear breaches and re-escalations by direct message. Naming only "
        "people keeps the escalation channel, naming only a channel keeps the managers; "
        "`off` clears both.",
        handler=handle_escalate,
        admin_only=True,
    ),
)
