"""`/sla explain SLA-42` and the card's Explain button: the ledger of a ticket's clock.

Where every second of each metric went (running, paused and why, outside business hours,
holiday), the thresholds with when each nudge fired or will fire, and one line saying why the
ticket is breached, at risk or fine. Always private. A channel sees only its own tickets
(admins: any); another channel's ticket reads exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commands.deps import Deps
from commands.errors import NotFound
from commands.parser import parse_ticket_ref
from commands.permissions import is_admin
from commands.request import Result, Verb, VerbRequest
from commands.text import channel_mention, quote
from commands.timezones import user_tz
from sla.causes import handoffs
from sla.events import ClockEvent
from sla.ledger import NudgeRecord, TicketLedger, explain
from sla.policy import Policy
from sla.responders import ActorEvent
from sla.targets import Metric
from storage import repositories as repo
from storage.mappers import clock_events
from storage.models import stored_id
from storage.repositories.nudges import list_nudges

USAGE = "/sla explain SLA-42"


@dataclass(frozen=True)
class LedgerResult(Result):
    """Where every second of a ticket's clocks went, for the reader's time zone (private)."""

    key: str
    ledger: TicketLedger
    tz: str


@dataclass(frozen=True)
class _Loaded:
    key: str
    channel_id: str
    events: list[ClockEvent]
    reasons: dict[datetime, str]
    nudges: list[NudgeRecord]
    policy: Policy
    handed_over: tuple[datetime, ...]


@dataclass(frozen=True)
class ExplainedTicket:
    """A ticket's ledger at now with its channel and that channel's calendar zone; whoever
    shows it decides who may see that channel."""

    key: str
    channel_id: str
    ledger: TicketLedger
    tz: str


def ticket_ledger(deps: Deps, *, team_id: str, key: str) -> ExplainedTicket | None:
    """The ledger of ticket `key` now (None: no such ticket)."""
    loaded = _load(deps, team_id=team_id, key=key)
    if loaded is None:
        return None
    ledger = explain(loaded.events, loaded.policy, deps.clock.now(),
                     pause_reasons=loaded.reasons, nudges=loaded.nudges,
                     handed_over=loaded.handed_over)
    return ExplainedTicket(loaded.key, loaded.channel_id, ledger, loaded.policy.calendar.tz)


def explain_ticket(deps: Deps, *, team_id: str, user_id: str, channel_id: str,
                   key: str) -> LedgerResult:
    """The private ledger of ticket `key` as seen from `channel_id` by `user_id`."""
    found = ticket_ledger(deps, team_id=team_id, key=key)
    # The admin check may ask Slack (users.info): never inside the unit of work.
    if found is None or (found.channel_id != channel_id and not is_admin(deps, user_id)):
        # The key may come from a crafted button value: quoted, never rendered as mrkdwn.
        raise NotFound(f"There is no ticket {quote(key, 40)} in {channel_mention(channel_id)}. "
                       "Try `/sla list`.")
    tz = user_tz(deps, user_id, found.tz)
    return LedgerResult(found.key, found.ledger, tz, public=False)


def _load(deps: Deps, *, team_id: str, key: str) -> _Loaded | None:
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        workspace_id = stored_id(workspace)
        ticket = repo.get_ticket_by_key(session=session, workspace_id=workspace_id, key=key)
        if ticket is None:
            return None
        rows = repo.list_events(session=session, ticket_id=stored_id(ticket))
        reasons = {r.at: r.note for r in rows if r.kind == "paused" and r.note}
        nudges = [
            NudgeRecord(Metric(n.metric), n.threshold, n.seq, n.cycle, n.state,
                        n.sent_at or n.planned_at, n.late)
            for n in list_nudges(session=session, ticket_id=stored_id(ticket))
        ]
        policy = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=ticket.channel_id
        )
        moves = handoffs(ActorEvent(r.kind, r.at, r.actor_id, r.note) for r in rows)
        return _Loaded(ticket.key, ticket.channel_id, clock_events(rows), reasons, nudges, policy,
                       moves)


def handle_explain(request: VerbRequest) -> LedgerResult:
    """The ledger of a ticket of this channel (admins: any channel), privately."""
    number = parse_ticket_ref(request.args, USAGE)
    return explain_ticket(request.deps, team_id=request.team_id, user_id=request.user_id,
                          channel_id=request.channel_id, key=f"SLA-{number}")


VERBS = (
    Verb(
        name="explain",
        usage=(USAGE,),
        summary="why a ticket is breached, at risk or fine: where every second of its clock went",
        details="The ledger of each metric: running, paused (with the reason), outside "
        "business hours and holidays, with the business time each counted (it adds up to "
        "the clock exactly), and when each nudge fired or will fire. Only you see it.",
        handler=handle_explain,
    ),
)
