"""The App Home tab: the reader's open tickets (requested or assigned), those at risk, and
those the channels' forecasts say are likely to breach soon (estimates, said to be)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.views.blocks import context, list_text, section
from bot.views.forecast import channel_lines
from bot.views.formats import METRIC_LABELS, PRIORITY_EMOJI, due_text, excerpt, place_name
from commands.forecasts import FORECAST_HOURS, ChannelForecast
from commands.home import HomeItem, HomeTickets
from commands.ids import Block
from commands.text import channel_mention, escape_mrkdwn, link, user_mention
from sla.clock import TicketClock
from sla.forecast import DEFAULT_WEEKS
from sla.targets import Priority


def is_at_risk(clock: TicketClock, threshold: float = 0.8) -> bool:
    """A running ticket past `threshold` of any target, or already breached."""
    return any(
        not m.stopped and (m.breached or m.fraction >= threshold) for m in clock.metrics.values()
    )


def _home_line(item: HomeItem, tz: str, now: datetime) -> str:
    dated = [(m.due_at, m) for m in item.clock.metrics.values()
             if not m.stopped and m.due_at is not None]
    soonest = min(dated, key=lambda pair: pair[0], default=None)
    if item.clock.paused:
        state = "paused"
    elif soonest is not None:
        metric = soonest[1]
        state = f"{METRIC_LABELS[metric.metric].lower()} {due_text(metric, tz, now)}"
    else:
        state = item.status
    name = link(item.permalink, item.key) if item.permalink else f"*{item.key}*"
    title = escape_mrkdwn(excerpt(item.title, 80))
    emoji = PRIORITY_EMOJI.get(Priority(item.priority), "")
    return f"{emoji} {name} in {channel_mention(item.channel_id)} · {state}\n{title}"


def render_home(
    user_id: str, items: Sequence[HomeItem], tz: str, now: datetime, *, limit: int = 20,
    forecasts: Sequence[ChannelForecast] = (),
) -> dict[str, Any]:
    """The App Home tab: the user's open tickets (requested or assigned), those at risk, and
    the forecast of the channels where one of them waits for an answer."""
    at_risk = [i for i in items if is_at_risk(i.clock)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": Block.HOME_HEADER.value,
         "text": {"type": "plain_text", "text": "Your SLA tickets"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"{user_mention(user_id)} · {len(items)} open · {len(at_risk)} at risk · "
            f"times in {place_name(tz)} time")}]},
    ]
    if forecasts:
        blocks += _forecast_blocks(forecasts, tz)
    sections = (("At risk", at_risk), ("Open", [i for i in items if i not in at_risk]))
    for title, group in sections:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}})
        if not group:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": "Nothing here :tada:" if title == "At risk"
                 else "No other open tickets."}]})
            continue
        for item in group[:limit]:
            blocks.append({"type": "section",
                           "text": {"type": "mrkdwn", "text": _home_line(item, tz, now)}})
        if len(group) > limit:
            more = f"…and {len(group) - limit} more: try `/sla list mine`"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
        blocks.append({"type": "divider"})
    return {"type": "home", "blocks": blocks}


def _forecast_blocks(forecasts: Sequence[ChannelForecast], tz: str) -> list[dict[str, Any]]:
    """Which of the reader's waiting tickets each channel's forecast says will likely breach."""
    title = (f"*Likely to breach in the next {FORECAST_HOURS} business hours* "
             "(an estimate, per channel)")
    return [
        section(list_text(title, channel_lines(forecasts, tz=tz))),
        context("Each channel's estimate: its team's answers per business hour over the last "
                f"{DEFAULT_WEEKS} weeks against the tickets waiting ahead of yours, earliest due "
                "first. Only your tickets are named."),
        {"type": "divider"},
    ]


def home_view(found: HomeTickets) -> dict[str, Any]:
    """The Home tab of `home_tickets`' answer."""
    return render_home(found.user_id, found.items, found.tz, found.now,
                       forecasts=found.forecasts)
