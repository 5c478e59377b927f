"""The 12-week trend as an SVG drawn by matplotlib (object API, no pyplot: pages render on
several threads at once). The same numbers are in the page as a table."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

from bot.views.formats import metric_name
from commands.portal import HEADLINE, WeekPoint

_STYLES = {"first_response": ("#1f5fa8", "o"), "next_response": ("#7a4a00", "^"),
           "resolution": ("#1b6e3a", "s")}


def trend_svg(points: Sequence[WeekPoint], *, goal_percent: float | None = None) -> str:
    """An accessible SVG line chart of weekly met % per metric (text in the SVG is text).

    Drawn once per distinct set of numbers (matplotlib takes ~25 ms a chart; everyone who
    opens the same scope in the same week sees the same one)."""
    return _drawn(tuple((p.label, tuple(p.percents.get(m.value) for m in HEADLINE))
                        for p in points), goal_percent)


@lru_cache(maxsize=256)
def _drawn(points: tuple[tuple[str, tuple[float | None, ...]], ...],
           goal_percent: float | None) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 3.2), dpi=100)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    x = list(range(len(points)))
    for index, metric in enumerate(HEADLINE):
        values = [percents[index] for _label, percents in points]
        if all(v is None for v in values):
            continue
        color, marker = _STYLES[metric.value]
        axes.plot(x, [float("nan") if v is None else v for v in values], marker=marker,
                  color=color, linewidth=1.8, markersize=4, label=metric_name(metric.value))
    if goal_percent is not None:
        axes.axhline(goal_percent, color="#a00000", linestyle="--", linewidth=1,
                     label=f"Goal {goal_percent:g}%")
    axes.set_ylim(0, 105)
    axes.set_ylabel("Met %")
    axes.set_xticks(x, [label for label, _percents in points], rotation=45, ha="right",
                    fontsize=8)
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower left", fontsize="small")
    # Fixed margins that fit the rotated week labels: tight_layout would draw the figure a
    # second time to measure them, nearly doubling the cost of every page.
    figure.subplots_adjust(left=0.08, right=0.98, top=0.96, bottom=0.26)
    buffer = io.StringIO()
    with _text_as_text():
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE: the SVG goes inline into an HTML page.
    return svg[svg.index("<svg"):]


@contextmanager
def _text_as_text() -> Iterator[None]:
    """Keep labels as <text> (readable by screen readers and search) instead of paths."""
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "slabot"}):
        yield
