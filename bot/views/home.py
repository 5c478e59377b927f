"""The App Home tab: the reader's open tickets (requested or assigned) and those at risk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.views.formats import METRIC_LABELS, PRIORITY_EMOJI, due_text, excerpt, place_name
from commands.home import HomeItem
from commands.ids import Block
from commands.text import channel_mention, escape_mrkdwn, link, user_mention
from sla.clock import TicketClock
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
    user_id: str, items: Sequence[HomeItem], tz: str, now: datetime, *, limit: int = 20
) -> dict[str, Any]:
    """The App Home tab: the user's open tickets (requested or assigned) and those at risk."""
    at_risk = [i for i in items if is_at_risk(i.clock)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": Block.HOME_HEADER.value,
         "text": {"type": "plain_text", "text": "Your SLA tickets"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"{user_mention(user_id)} · {len(items)} open · {len(at_risk)} at risk · "
            f"times in {place_name(tz)} time")}]},
    ]
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
