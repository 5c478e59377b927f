"""Compliance charts rendered with matplotlib's Agg backend into PNG bytes.

Only the object-oriented API is used (Figure + FigureCanvasAgg, never pyplot): pyplot keeps
global state, and the digest job renders charts on scheduler threads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from commands.charts import DailyCompliance

# 1000 x 500 px: readable in Slack's preview on a phone, and a PNG of a few tens of kB.
_SIZE_INCHES = (10.0, 5.0)
_DPI = 100


def render_compliance_chart(
    days: Sequence[DailyCompliance], *, goal_percent: float, title: str
) -> bytes:
    """Draw daily met % for first response and resolution with the goal line; return PNG bytes."""
    if not days:
        raise ValueError("a compliance chart needs at least one day")
    # Imported here: matplotlib takes a while to load and only digests draw charts.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, WeekdayLocator
    from matplotlib.figure import Figure
    from numpy import array

    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # As datetime64, which matplotlib's stubs accept where a list of dates is not.
    x = array([d.day for d in days], dtype="datetime64[D]")
    # Missing days are NaN so the line breaks instead of pretending a quiet day was 0%.
    first = [_nan_if_none(d.first_response) for d in days]
    resolution = [_nan_if_none(d.resolution) for d in days]
    axes.plot(x, first, marker="o", markersize=3, linewidth=1.5, label="First response")
    axes.plot(x, resolution, marker="s", markersize=3, linewidth=1.5, label="Resolution")
    axes.axhline(goal_percent, color="tab:red", linestyle="--", linewidth=1.2,
                 label=f"Goal {goal_percent:g}%")
    axes.set_ylim(0, 105)
    axes.set_ylabel("Met %")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.xaxis.set_major_locator(WeekdayLocator(byweekday=0))
    axes.xaxis.set_major_formatter(DateFormatter("%b %d"))
    axes.legend(loc="lower left", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value
