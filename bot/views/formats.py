"""How times, durations, metrics and percentages read in Slack, for every view.

Times are shown in the reader's terms: relative ("in 45 min") and local wall clock ("10:30
Berlin"); business durations like `1h 30m`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sla.clock import MetricClock, MetricState
from sla.durations import format_business_duration
from sla.targets import Metric, Priority

# Keyed by the metric's value too (`"first_response"`): Metric is a StrEnum.
METRIC_LABELS: dict[str, str] = {
    Metric.FIRST_RESPONSE: "First response",
    Metric.NEXT_RESPONSE: "Next response",
    Metric.RESOLUTION: "Resolution",
}
PRIORITY_EMOJI = {
    Priority.P1: ":red_circle:",
    Priority.P2: ":large_orange_circle:",
    Priority.P3: ":large_yellow_circle:",
    Priority.P4: ":white_circle:",
}
# Slack caps section text at 3000 characters; the excerpt stays far below.
EXCERPT_CHARS = 280


def place_name(tz: str) -> str:
    """A readable place for a time zone: ``Europe/Berlin`` -> ``Berlin``."""
    if tz.upper() == "UTC":
        return "UTC"
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def local_time(at: datetime, tz: str, now: datetime) -> str:
    """``10:30 Berlin`` today, ``Tue 10:30 Berlin`` this week, ``2 Dec 10:30 Berlin`` later."""
    zone = ZoneInfo(tz)
    local, local_now = at.astimezone(zone), now.astimezone(zone)
    days_apart = abs((local.date() - local_now.date()).days)
    if days_apart == 0:
        day = ""
    elif days_apart < 7:
        day = local.strftime("%a ")
    else:
        day = f"{local.day} {local.strftime('%b')} "
    return f"{day}{local.strftime('%H:%M')} {place_name(tz)}"


def relative(delta: timedelta) -> str:
    """Wall-clock distance in words: ``45 min``, ``3 h 10 min``, ``2 days``."""
    seconds = int(abs(delta).total_seconds())
    if seconds < 60:
        return "less than a minute"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def due_text(metric: MetricClock, tz: str, now: datetime) -> str:
    """What a person needs to know about one metric, e.g. ``in 45 min, 10:30 Berlin``.

    Target, elapsed and remaining are business time, shown in hours like `/sla policy`
    ("24h", not "1d", which reads as one day); due instants are wall clock.
    """
    target = format_business_duration(metric.target)
    took = format_business_duration(metric.elapsed)
    if metric.state is MetricState.MET:
        return f":white_check_mark: met in {took} (target {target})"
    if metric.stopped:
        return f":x: missed: took {took} (target {target})"
    if metric.state is MetricState.PAUSED:
        left = format_business_duration(metric.remaining)
        return f":double_vertical_bar: paused, {left} of business time left"
    if metric.due_at is None:
        return f"target {target}"
    when = local_time(metric.due_at, tz, now)
    if metric.breached or metric.due_at <= now:
        return f":rotating_light: overdue by {relative(now - metric.due_at)} (was due {when})"
    return f"in {relative(metric.due_at - now)}, {when}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a message, on one quoted paragraph, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def metric_name(metric: str) -> str:
    """`first_response` -> `First response`."""
    return METRIC_LABELS.get(str(metric), str(metric).replace("_", " ").capitalize())


def format_percent(value: float | None) -> str:
    """`91.7%`, `100%`, or `n/a` when nothing was measured."""
    if value is None:
        return "n/a"
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


def format_business(value: timedelta | None) -> str:
    """A business-time duration such as `1h 30m`, or `n/a`."""
    return "n/a" if value is None else format_business_duration(value)


def count_tickets(count: int) -> str:
    """`1 ticket`, `3 tickets`."""
    return f"{count} ticket" if count == 1 else f"{count} tickets"
