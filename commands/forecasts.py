"""The breach forecast of a channel, or of every channel with tickets waiting: the one path
`/sla status`, the App Home, the digest and the portal take to it.

Each channel has its own calendar and its own team, so a forecast is always a channel's
(`sla.forecast` says how it is estimated); the workspace's is one per channel.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from commands.deps import Deps
from sla.forecast import Forecast, forecast, team_pace
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories.histories import load_forecast_inputs, waiting_channels

FORECAST_HOURS = 4  # `/sla status`, the App Home and the digest look this far ahead
PORTAL_FORECAST_HOURS = 24  # the portal's channel page looks a business day or three ahead


@dataclass(frozen=True)
class ChannelForecast:
    """One channel's breach forecast."""

    channel_id: str
    forecast: Forecast

    def only(self, keys: Collection[str]) -> ChannelForecast:
        """The same forecast naming only the tickets in `keys` as likely to breach (the
        queue, and so the estimate, stays the channel's)."""
        likely = tuple(e for e in self.forecast.likely if e.key in keys)
        return replace(self, forecast=replace(self.forecast, likely=likely))

    def waits_for(self, keys: Collection[str]) -> bool:
        """True when one of `keys` is in the queue waiting for an answer."""
        return any(e.key in keys for e in self.forecast.queue)


def breach_forecast(session: Session, *, workspace_id: int, channel_id: str, now: datetime,
                    hours: float = FORECAST_HOURS) -> Forecast:
    """Tickets of a channel likely to breach in the next `hours` business hours unless
    answered."""
    policy = repo.get_policy(session=session, workspace_id=workspace_id, channel_id=channel_id)
    waiting, answers = load_forecast_inputs(
        session=session, workspace_id=workspace_id, channel_id=channel_id, now=now
    )
    pace = team_pace(answers, policy.calendar, now)
    return forecast(waiting, pace, policy.calendar, now, hours=hours)


def channel_forecasts(
    session: Session, *, workspace_id: int, channel_ids: Iterable[str] | None, now: datetime,
    hours: float = FORECAST_HOURS,
) -> tuple[ChannelForecast, ...]:
    """The forecast of each channel in `channel_ids` (None: every channel with a ticket
    waiting for an answer), in channel order."""
    if channel_ids is None:
        channel_ids = waiting_channels(session=session, workspace_id=workspace_id)
    return tuple(
        ChannelForecast(channel, breach_forecast(session, workspace_id=workspace_id,
                                                 channel_id=channel, now=now, hours=hours))
        for channel in sorted(set(channel_ids))
    )


def channel_forecast(deps: Deps, *, team_id: str, channel_id: str,
                     hours: float = PORTAL_FORECAST_HOURS) -> ChannelForecast:
    """One channel's forecast now, read in a unit of work of its own (the portal's page;
    the caller decides who may see the channel)."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=team_id)
        ahead = breach_forecast(session, workspace_id=stored_id(workspace), channel_id=channel_id,
                                now=now, hours=hours)
    return ChannelForecast(channel_id, ahead)
