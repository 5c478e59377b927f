"""`/sla assign SLA-42 @person|me|none` and the card's Take it button: who has a ticket.

Anyone who can use `/sla` in a ticket's channel may take it, give it to someone else or
unassign it, as agents do in a help desk; the thread is told who did it, so nothing happens
unseen. The assignee hears the at-risk nudge by DM and is charged with the breaches that
happen while the ticket is theirs (responder figures in `/sla report`).
"""

from __future__ import annotations

from dataclasses import dataclass

from commands import lifecycle
from commands.deps import Deps
from commands.errors import UsageError
from commands.parser import clip, no_extra, parse_ticket_number, parse_user
from commands.request import Result, Verb, VerbRequest
from commands.tickets import ticket_here, ticket_key, ticket_pressed

USAGE = "/sla assign SLA-42 @person|me|none"
ME = "me"
NOBODY = frozenset({"none", "nobody"})


# -- grammar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignArgs:
    """`assign SLA-42 @person|me|none`: the ticket and its new assignee (None: nobody)."""

    number: int
    assignee_id: str | None


def parse_assign(args: tuple[str, ...], usage: str, *, me: str) -> AssignArgs:
    """A ticket key, then a mention, `me` (the user id `me`) or `none`."""
    if not args:
        raise UsageError("which ticket? Name it like SLA-42", usage)
    if len(args) < 2:
        raise UsageError("to whom? Name a person (@name), `me` or `none`", usage)
    no_extra(args, 2, usage)
    number = parse_ticket_number(args[0], usage)
    word = args[1].lower()
    if word == ME:
        return AssignArgs(number, me)
    if word in NOBODY:
        return AssignArgs(number, None)
    person = parse_user(args[1], usage)
    if person.id is None:
        # Slack turns a real person into `<@U123|name>`; a plain `@name` is nobody it knows.
        raise UsageError(f"I do not know `@{clip(person.name or '')}`: pick the person from "
                         "Slack's autocomplete so the mention is a link", usage)
    return AssignArgs(number, person.id)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketAssigned(Result):
    """Who has ticket `key` now (None: nobody), who asked, and whether that changed."""

    key: str
    assignee_id: str | None
    by: str
    changed: bool


# -- acts -------------------------------------------------------------------------------------


def handle_assign(request: VerbRequest) -> TicketAssigned:
    """Give a ticket of this channel to someone, to yourself or to nobody; answered privately
    (the thread gets the public note)."""
    parsed = parse_assign(request.args, USAGE, me=request.user_id)
    key = ticket_key(parsed.number)
    ticket_here(request, key)
    result = lifecycle.assign(request.deps, team_id=request.team_id, user_id=request.user_id,
                              key=key, assignee_id=parsed.assignee_id)
    return TicketAssigned(result.ticket.key, parsed.assignee_id, request.user_id,
                          result.changed, public=False)


def press_take(deps: Deps, *, team_id: str, user_id: str, key: str,
               pressed_in: str | None) -> TicketAssigned:
    """The card's Take it button: the ticket goes to whoever pressed it (applied through
    the inbox, like every card button; only a ticket of the channel it was pressed in)."""
    ticket_pressed(deps, team_id=team_id, key=key, pressed_in=pressed_in)
    result = lifecycle.assign(deps, team_id=team_id, user_id=user_id, key=key,
                              assignee_id=user_id)
    return TicketAssigned(result.ticket.key, user_id, user_id, result.changed, public=False)


VERBS = (
    Verb(
        name="assign",
        usage=(USAGE,),
        summary="give a ticket of this channel to someone, take it (`me`) or unassign it "
        "(`none`)",
        details="Anyone in this channel may take a ticket, give it to someone else or "
        "unassign it; the thread is told who did. The card's Take it button does the same for "
        "you. The assignee gets the at-risk reminder by DM, and breaches while a ticket is "
        "theirs count in their row of `/sla report`.",
        handler=handle_assign,
    ),
)
