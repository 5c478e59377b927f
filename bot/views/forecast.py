"""The breach forecast as `/sla status`, the App Home and the digest show it: how many
waiting tickets are likely to breach before the horizon, which, and how that is estimated.

Every figure says it is an estimate: each line carries its forecast's one-line method.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from commands.forecasts import ChannelForecast
from commands.text import channel_mention, escape_mrkdwn
from sla.forecast import Forecast

MAX_KEYS = 5  # tickets named per line before "and N more"


def forecast_line(ahead: Forecast, *, channel_id: str | None = None,
                  tz: str | None = None) -> str:
    """`Likely to breach before 17:00 (UTC) unless answered: 3 (SLA-4, SLA-9, SLA-12)` and
    how it is estimated; with `channel_id`, the line starts with the channel. The horizon is
    shown in `tz` (default: the channel's calendar zone)."""
    zone = tz or ahead.tz
    end = ahead.horizon_end.astimezone(ZoneInfo(zone))
    today = ahead.now.astimezone(ZoneInfo(zone)).date() == end.date()
    when = end.strftime("%H:%M") if today else end.strftime("%a %H:%M")
    keys = ", ".join(escape_mrkdwn(e.key) for e in ahead.likely[:MAX_KEYS])
    more = f" and {len(ahead.likely) - MAX_KEYS} more" if len(ahead.likely) > MAX_KEYS else ""
    named = f" ({keys}{more})" if ahead.likely else ""
    lead = (f"{channel_mention(channel_id)}: likely" if channel_id is not None
            else ":crystal_ball: Likely")
    return (f"{lead} to breach before {when} ({zone}) unless answered: "
            f"{len(ahead.likely)}{named}\n_{ahead.method}_")


def channel_lines(forecasts: Sequence[ChannelForecast], *, tz: str | None = None) -> list[str]:
    """One forecast line per channel, the channels with tickets likely to breach first."""
    ordered = sorted(forecasts, key=lambda f: (-len(f.forecast.likely), f.channel_id))
    return [forecast_line(f.forecast, channel_id=f.channel_id, tz=tz) for f in ordered]
