"""`/sla responders @user ...`: people whose replies always count as the team's answer.

A responder's thread reply (or :eyes:) is a first response even on a ticket they opened
themselves, e.g. an agent who posts a customer's request and then answers it (the rule:
a reply by anyone but the requester, or by a configured responder, is a response).
Without any, only people other than the requester respond.
"""

from __future__ import annotations

from commands.directory import resolve_users
from commands.errors import UsageError
from commands.escalate import configure_here
from commands.parser import parse_user
from commands.request import Message, Verb, VerbRequest

USAGE = "/sla responders @user ..."
USAGE_OFF = "/sla responders off"
_OFF = frozenset({"off", "none", "clear"})


def handle_responders(request: VerbRequest) -> Message:
    """Set (or with `off` clear) the channel's responders."""
    args = tuple(a.strip(",") for a in request.args if a.strip(","))
    if not args:
        raise UsageError("name the people whose replies always count, like @ann @bo", USAGE)
    clear = len(args) == 1 and args[0].lower() in _OFF
    refs = [] if clear else [parse_user(token, USAGE) for token in args]
    request.require_admin("choose the responders")
    user_ids = resolve_users(request.deps, refs)
    configure_here(request, responder_user_ids=user_ids)
    if not user_ids:
        return Message(f"<#{request.channel_id}> has no responders now: only replies by "
                       "people other than the requester count as an answer.")
    people = ", ".join(f"<@{u}>" for u in user_ids)
    return Message(
        text=f":busts_in_silhouette: In <#{request.channel_id}>, replies by {people} count as "
        "the team's answer, also on tickets they opened themselves."
    )


VERBS = (
    Verb(
        name="responders",
        usage=(USAGE, USAGE_OFF),
        summary="people whose replies always count as the team's answer here",
        details="For agents who post requests on someone's behalf and then answer them: "
        "their own reply or :eyes: still stops the first-response clock. `off` clears the "
        "list. Naming people replaces the list.",
        handler=handle_responders,
        admin_only=True,
    ),
)
