"""`/sla escalate #channel @user ...`: where this channel's breaches go.

Slack sends mentions escaped with their ids (the manifest sets `should_escape`); a plain
`#name` or `@name` someone typed by hand is looked up by name through the Web API.
"""

from __future__ import annotations

from commands.directory import require_postable, resolve_channel, resolve_user
from commands.parser import parse_escalate
from commands.request import Message, Verb, VerbRequest
from storage import repositories as repo

USAGE = "/sla escalate #channel @user ..."
USAGE_OFF = "/sla escalate off"
def handle_escalate(request: VerbRequest) -> Message:
    """Set (or with `off` clear) the escalation channel and managers of this channel."""
    parsed = parse_escalate(request.args, USAGE)
    request.require_admin("change where breaches are escalated")
    channel_ids = [resolve_channel(request.deps, parsed.channel)] if parsed.channel else []
    for channel_id in channel_ids:
        require_postable(request.deps, channel_id)
    user_ids = list(dict.fromkeys(resolve_user(request.deps, u) for u in parsed.users))
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = repo.configure_channel(
            session=session, workspace_id=workspace.id, channel_id=request.channel_id,
            # Naming only people keeps the channel, and the other way round.
            escalation_channel_ids=channel_ids if parsed.clear or channel_ids else None,
            manager_user_ids=user_ids if parsed.clear or user_ids else None,
        )
        channels, managers = list(row.escalation_channel_ids), list(row.manager_user_ids)
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
