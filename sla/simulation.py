"""What if: replay a channel's tickets of a period under another policy, next to the actual.

Every ticket is replayed from its events exactly as ``compute_clock`` replays it. The replay
is split in two steps so a what-if costs little more than one replay:

1. ``measure`` (``sla.history``) walks a ticket's events on one calendar and keeps, for each
   metric, what does not depend on targets: the priority in force, start, stop, business
   elapsed time and the pauses (next-response cycles keep each cycle's elapsed time).
2. ``judge`` applies a policy's targets to a measurement: met or breached, the due instant
   of metrics still running, the nudges and escalations that fired.

A proposed policy with the same calendar reuses the measurements; another calendar measures
once more. Compliance uses ``sla.compliance.summarize`` with the report's rules (tickets
created before the period ends and not resolved before it starts; met / (met + breached)),
so the current policy reproduces ``/sla report`` exactly when the policy did not change
during the period.

Nudges and escalations count, for the tickets of the period, every threshold of the final
measurement that was reached: a nudge at fraction f fired when the metric ran past f of
its target (reached exactly while running counts, as the scheduler fires at the planned
instant), the breach and each re-escalation likewise. Earlier next-response cycles count
only towards breaches, as the clock reports them.

The tightest target per priority and metric (``sla.tightest``) is the smallest whole minute
of business time that keeps that cell's met % at the goal (the policy's first credit tier,
else 95%) over the same tickets, measured on the proposed calendar.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sla.breach import is_breached
from sla.compliance import MetricOutcome, credit_owed, percent, summarize_by
from sla.events import ClockError, as_utc
from sla.history import Measured, Span, TicketHistory, measure
from sla.policy import Policy
from sla.targets import CreditTier, Metric, Priority
from sla.tightest import Tightest, tightest_targets

__all__ = ["Cell", "Judged", "Side", "Simulation", "goal_of", "judge", "simulate"]

DEFAULT_GOAL_PERCENT = 95.0
CREDIT_METRIC = Metric.RESOLUTION  # as in the report: credits follow resolution compliance


@dataclass(frozen=True, slots=True)
class Judged:
    """A span under a policy: its outcome and the nudges and escalations it fired."""

    outcome: MetricOutcome
    nudges: int
    escalations: int


class _Rules:
    """A policy's targets and thresholds, looked up once for thousands of spans."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.targets = {(p, m): policy.target(p, m) for p in Priority for m in Metric}
        self.fractions = tuple(r.fraction for r in policy.nudges if r.fraction < 1)
        self.every = policy.reescalate_every


def judge(
    measured: Measured, policy: Policy, due_from: datetime | None = None,
    rules: _Rules | None = None,
) -> list[Judged]:
    """Apply ``policy``'s targets (on the calendar ``measured`` was measured with).

    Due instants are computed as the clock does, except (with ``due_from``) for metrics that
    stopped before it: compliance never reads those.
    """
    rules = rules or _Rules(policy)
    targets = rules.targets
    found = []
    for s in measured.spans:
        target = targets[(s.priority, s.metric)]
        if target is None:
            continue
        earlier = 0
        for priority, elapsed in s.earlier:
            done = targets[(priority, s.metric)]
            earlier += done is not None and is_breached(elapsed, done)
        breached = is_breached(s.elapsed, target) or earlier > 0
        due_at = None
        if not s.paused and (due_from is None or s.stopped_at is None
                             or s.stopped_at >= due_from):
            due_at = policy.calendar.due(s.started_at, target, s.pauses).astimezone(UTC)
        outcome = MetricOutcome(
            ticket_key=measured.history.key,
            channel=measured.history.channel,
            priority=measured.priority,
            assignee=measured.history.assignee,
            metric=s.metric,
            target=target,
            started_at=s.started_at,
            stopped_at=s.stopped_at,
            elapsed=s.elapsed,
            breached=breached,
            due_at=due_at,
        )
        found.append(Judged(outcome, *_fired(s, target, rules)))
    return found


def _fired(s: Span, target: timedelta, rules: _Rules) -> tuple[int, int]:
    """(nudges before the breach, breach + re-escalations) that fired for this span."""
    running = s.stopped_at is None
    elapsed = s.elapsed
    # Reached: exactly at the threshold counts while running (the scheduler fires at the
    # planned instant), a stopped metric must have gone past it.
    share = elapsed / target
    nudges = 0
    for fraction in rules.fractions:
        business = target * fraction
        if elapsed > business or (running and elapsed == business):
            nudges += 1
        elif share < fraction:
            break
    escalations = 0
    if elapsed > target or (running and elapsed == target):
        escalations = 1
        every = rules.every
        if every is not None:
            over = elapsed - target
            escalations += over // every if running else max(math.ceil(over / every) - 1, 0)
    return nudges, escalations


# -- one side of the comparison ----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Met and breached for one metric (and priority, or all when ``priority`` is None)."""

    metric: Metric
    priority: Priority | None
    met: int
    breached: int

    @property
    def met_percent(self) -> float | None:
        """``met / (met + breached) * 100``; None when nothing counts."""
        return percent(self.met, self.breached)


@dataclass(frozen=True)
class Side:
    """A policy's numbers over the period."""

    policy: Policy
    tickets: int
    cells: tuple[Cell, ...]
    totals: tuple[Cell, ...]
    breaches: int
    nudges: int
    escalations: int
    credit_met_percent: float | None
    credit: CreditTier | None

    def cell(self, metric: Metric, priority: Priority | None = None) -> Cell | None:
        """The cell of ``metric`` (and ``priority``; None for all priorities)."""
        pool = self.totals if priority is None else self.cells
        return next((c for c in pool if c.metric is metric and c.priority == priority), None)


def _side(
    measured: Sequence[Measured], policy: Policy, start: datetime, end: datetime, now: datetime
) -> Side:
    t, rules = min(end, now), _Rules(policy)
    judged = [j for m in measured for j in judge(m, policy, t, rules)]
    outcomes = [j.outcome for j in judged]
    cells = []
    by_priority = summarize_by(outcomes, "priority", start, end, now)
    for priority in Priority:
        group = by_priority.get(priority.value)
        for metric, figures in group.metrics.items() if group else ():
            if figures.counted:
                cells.append(Cell(metric, priority, figures.met, figures.breached))
    # Met and breached add up across priorities: the totals need no second pass.
    totals = []
    for metric in Metric:
        mine = [c for c in cells if c.metric is metric]
        if mine:
            totals.append(Cell(metric, None, sum(c.met for c in mine),
                               sum(c.breached for c in mine)))
    credit_cell = next((c for c in totals if c.metric is CREDIT_METRIC), None)
    credit_percent = credit_cell.met_percent if credit_cell else None
    return Side(
        policy=policy,
        tickets=len(measured),
        cells=tuple(sorted(cells, key=lambda c: (list(Metric).index(c.metric), c.priority))),
        totals=tuple(totals),
        breaches=sum(c.breached for c in totals),
        nudges=sum(j.nudges for j in judged),
        escalations=sum(j.escalations for j in judged),
        credit_met_percent=credit_percent,
        credit=credit_owed(credit_percent, policy.credit_tiers),
    )


# -- the comparison ----------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """The actual numbers of a period next to those a proposed policy would have given."""

    start: datetime
    end: datetime
    actual: Side
    proposed: Side
    tightest: tuple[Tightest, ...]
    goal_percent: float
    skipped: tuple[str, ...] = ()  # tickets whose history cannot be replayed


def goal_of(policy: Policy) -> float:
    """The met % to keep: the first (most lenient) credit tier, else 95%."""
    return policy.credit_tiers[0].below_percent if policy.credit_tiers else DEFAULT_GOAL_PERCENT


def simulate(
    histories: Iterable[TicketHistory],
    current: Policy,
    proposed: Policy,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Simulation:
    """Replay ``histories`` under both policies over ``[start, end)`` seen at ``now``."""
    start, end, now = as_utc(start, "start"), as_utc(end, "end"), as_utc(now, "now")
    actual_measured, skipped = _measure_all(histories, current, now, start, end)
    if proposed.calendar == current.calendar and \
            proposed.default_priority == current.default_priority:
        proposed_measured = actual_measured
    else:
        proposed_measured, _ = _measure_all(
            (m.history for m in actual_measured), proposed, now, start, end
        )
    goal = goal_of(proposed)
    return Simulation(
        start=start,
        end=end,
        actual=_side(actual_measured, current, start, end, now),
        proposed=_side(proposed_measured, proposed, start, end, now),
        tightest=tuple(
            tightest_targets(proposed_measured, proposed, start, end, now, goal, current)
        ),
        goal_percent=goal,
        skipped=tuple(skipped),
    )


def _measure_all(
    histories: Iterable[TicketHistory], policy: Policy, now: datetime, start: datetime,
    end: datetime,
) -> tuple[list[Measured], list[str]]:
    found, skipped = [], []
    for history in histories:
        try:
            measured = measure(history, policy, now)
        except ClockError:
            skipped.append(history.key)
            continue
        if measured.alive_in(start, end):
            found.append(measured)
    return found, skipped
