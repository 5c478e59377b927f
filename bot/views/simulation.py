"""`/sla simulate`: the actual and simulated figures side by side, and the tightest targets."""

from __future__ import annotations

from datetime import timedelta

from bot.views.blocks import Reply
from bot.views.formats import METRIC_LABELS, format_percent
from commands.simulate import SimulationResult
from commands.text import quote
from sla.durations import format_business_duration
from sla.policy import Policy
from sla.simulation import Side, Simulation
from sla.targets import Metric, Priority


def simulation_reply(result: SimulationResult) -> Reply:
    """The simulation with the changes it tried, in words."""
    return Reply(render_simulation(result.simulation, result.channel_id, result.period_label,
                                   policy_changes(result.current, result.proposed)))


def _metric_words(metric: Metric) -> str:
    return METRIC_LABELS[metric].lower()


def policy_changes(current: Policy, proposed: Policy) -> list[str]:
    """What `proposed` changes of `current`, one phrase per target, the hours, the nudges."""
    found = []
    for priority in Priority:
        for metric in Metric:
            before, after = current.target(priority, metric), proposed.target(priority, metric)
            if before != after:
                found.append(f"{priority} {_metric_words(metric)} {_duration(before)} → "
                             f"{_duration(after)}")
    if current.calendar != proposed.calendar:
        found.append(f"hours {current.calendar.describe()} → {proposed.calendar.describe()}")
    if current.nudges != proposed.nudges or current.reescalate_every != proposed.reescalate_every:
        found.append(f"nudges {_nudges(current)} → {_nudges(proposed)}")
    return found


def _duration(value: timedelta | None) -> str:
    return "off" if value is None else format_business_duration(value)


def _nudges(policy: Policy) -> str:
    marks = [f"{rule.fraction:.0%}" for rule in policy.nudges if rule.fraction < 1]
    every = policy.reescalate_every
    again = f", re-escalate {format_business_duration(every)}" if every else ""
    return (" ".join(marks) or "breach only") + again


def _met(side: Side, metric: Metric, priority: Priority | None) -> str:
    cell = side.cell(metric, priority)
    if cell is None:
        return "—"
    return f"{format_percent(cell.met_percent)} ({cell.met}/{cell.met + cell.breached})"


def _credit(side: Side) -> str:
    if not side.policy.credit_tiers:
        return "no tiers"
    owed = f"{side.credit.credit_percent:g}%" if side.credit else "none"
    return f"{owed} (res. {format_percent(side.credit_met_percent)})"


def render_simulation(result: Simulation, channel_id: str, label: str,
                      changes: list[str]) -> str:
    """The actual and simulated figures side by side, then the tightest targets."""
    actual, proposed = result.actual, result.proposed
    head = [f":crystal_ball: *What if* in <#{channel_id}>, {quote(label, 40)} "
            f"({actual.tickets} ticket{'s' if actual.tickets != 1 else ''}; nothing is saved)"]
    if changes:
        head.append("Proposed: " + quote("; ".join(changes), 600))
    else:
        head.append("Proposed: the current policy (the numbers below are your actual ones).")
    rows = [("", "actual", "simulated")]
    for metric in Metric:
        if actual.cell(metric) is None and proposed.cell(metric) is None:
            continue
        rows.append((f"{_metric_words(metric)} met", _met(actual, metric, None),
                     _met(proposed, metric, None)))
        for priority in Priority:
            if actual.cell(metric, priority) or proposed.cell(metric, priority):
                rows.append((f"  {priority}", _met(actual, metric, priority),
                             _met(proposed, metric, priority)))
    rows += [
        ("breaches", str(actual.breaches), str(proposed.breaches)),
        ("nudges before breach", str(actual.nudges), str(proposed.nudges)),
        ("escalations", str(actual.escalations), str(proposed.escalations)),
        ("service credit", _credit(actual), _credit(proposed)),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = "\n".join(
        f"{r[0].ljust(widths[0])}  {r[1].rjust(widths[1])}  {r[2].rjust(widths[2])}"
        for r in rows
    )
    lines = [*head, f"```\n{table}\n```"]
    tight = [
        f"{t.priority} {_metric_words(t.metric)} {format_business_duration(t.target)}"
        + (f" (now {format_business_duration(t.current)})" if t.current else " (not measured now)")
        for t in result.tightest
    ]
    if tight:
        lines.append(f"*Tightest targets that keep {result.goal_percent:g}%* "
                     f"(hours as simulated): " + ", ".join(tight))
    if result.skipped:
        lines.append(f"{len(result.skipped)} ticket(s) left out: their history cannot be replayed.")
    lines.append(
        "_Every ticket of the period is replayed from its events; met % = met / (met + "
        "breached) as in `/sla report`. Actual = today's policy replayed: the report's "
        "numbers unless the policy changed during the period. Nudges and escalations are the "
        "thresholds each ticket reached._"
    )
    return "\n".join(lines)
