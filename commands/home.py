"""What the App Home tab shows a person: their open tickets (requested or assigned) and
which of those waiting for an answer are likely to breach soon (the channels' forecasts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commands.clocks import clock_of, policy_of
from commands.deps import Deps
from commands.forecasts import ChannelForecast, channel_forecasts
from commands.timezones import user_tz
from sla.clock import TicketClock
from sla.policy import Policy
from storage.models import stored_id
from storage.repositories import ticket_lists as list_repo
from storage.repositories import workspaces as workspace_repo

# Open tickets read for one Home tab (the view shows the first 20 of each group).
HOME_LIMIT = 500


@dataclass(frozen=True)
class HomeItem:
    """One ticket line of the App Home tab."""

    key: str
    priority: str
    status: str
    channel_id: str
    title: str
    permalink: str | None
    clock: TicketClock


@dataclass(frozen=True)
class HomeTickets:
    """A person's open tickets with their clocks, in the reader's time zone, and the
    forecast of each channel where one of them waits for an answer (naming only theirs)."""

    user_id: str
    items: tuple[HomeItem, ...]
    tz: str
    now: datetime
    forecasts: tuple[ChannelForecast, ...] = ()


def home_tickets(deps: Deps, *, team_id: str, user_id: str) -> HomeTickets:
    """The open tickets `user_id` asked for or is assigned to, with their clocks now."""
    now = deps.clock.now()
    items: list[HomeItem] = []
    with deps.unit_of_work() as session:
        workspace = workspace_repo.get_or_create_workspace(session=session, team_id=team_id)
        tz_fallback = workspace.tz
        rows = list_repo.list_open_tickets(session=session, workspace_id=stored_id(workspace),
                                           involving=user_id, limit=HOME_LIMIT)
        policies: dict[str, Policy] = {}
        for ticket in rows:
            policy = policies.get(ticket.channel_id)
            if policy is None:
                policy = policies[ticket.channel_id] = policy_of(session, ticket)
            items.append(HomeItem(
                key=ticket.key, priority=ticket.priority, status=ticket.status,
                channel_id=ticket.channel_id, title=ticket.title, permalink=ticket.permalink,
                clock=clock_of(session, ticket, now, policy=policy),
            ))
        keys = {item.key for item in items}
        ahead = channel_forecasts(session, workspace_id=stored_id(workspace), channel_ids=policies,
                                  now=now)
    tz = user_tz(deps, user_id, tz_fallback)
    mine = tuple(f.only(keys) for f in ahead if f.waits_for(keys))
    return HomeTickets(user_id, tuple(items), tz, now, mine)
