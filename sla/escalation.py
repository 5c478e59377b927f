"""Escalation planning: which nudges are due now for one ticket, and when to wake up next.

Thresholds are the policy's nudge fractions of each running metric's target (1.0 is the
breach), plus re-escalations after the breach every ``policy.reescalate_every`` of business
time (threshold 1.0, ``seq`` 1, 2, ...). A nudge is identified by (metric, threshold, seq,
cycle); ``cycle`` tells next-response cycles apart and is 0 for the other metrics.

Each nudge fires once. When several of one metric are overdue at once (the bot was down),
only the most severe is due, marked ``late`` when it is more than ``grace`` past its planned
instant; the others are ``skipped`` so the caller can record them and they never fire later.
Anything no more severe than a nudge already sent is skipped too. Stopped and paused metrics
get nothing: resuming recomputes their instants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sla.clock import MetricClock, TicketClock
from sla.events import as_utc
from sla.policy import Policy
from sla.targets import Audience, Metric

LATE_GRACE = timedelta(seconds=60)


def _key(metric: Metric, threshold: float, seq: int, cycle: int) -> tuple[Metric, float, int, int]:
    # Thresholds come back from storage as floats; round so 0.8 read back matches 0.8 planned.
    return (Metric(metric), round(float(threshold), 6), int(seq), int(cycle))


@dataclass(frozen=True)
class SentNudge:
    """A nudge already sent, claimed or skipped for a ticket (seq > 0 is re-escalation n)."""

    metric: Metric
    threshold: float
    seq: int = 0
    cycle: int = 0


@dataclass(frozen=True)
class NudgeDue:
    """A nudge to send (or, in ``NudgePlan.skipped``, to record as never sent)."""

    metric: Metric
    threshold: float
    seq: int
    planned_at: datetime
    late: bool
    audiences: frozenset[Audience]
    cycle: int = 0

    @property
    def sent(self) -> SentNudge:
        """The record that marks this nudge as done."""
        return SentNudge(self.metric, self.threshold, self.seq, self.cycle)


@dataclass(frozen=True)
class NudgePlan:
    """Nudges due now (at most one per metric), skipped ones, and the next wake-up instant."""

    due: tuple[NudgeDue, ...]
    next_wake_at: datetime | None
    skipped: tuple[NudgeDue, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    threshold: float
    seq: int
    planned_at: datetime
    audiences: frozenset[Audience]

    @property
    def severity(self) -> tuple[float, int]:
        return (self.threshold, self.seq)


def _candidates(clock: MetricClock, policy: Policy) -> list[_Candidate]:
    """Every threshold of a running metric worth looking at, with its planned instant."""
    found = []
    for rule in policy.nudges:
        planned = clock.instant_at_fraction(rule.fraction)
        if planned is not None:
            found.append(_Candidate(rule.fraction, 0, planned, rule.audiences))
    every = policy.reescalate_every
    if every is not None:
        # Only the latest passed re-escalation and the next one matter: a later one
        # always supersedes an earlier one.
        passed = (clock.elapsed - clock.target) // every if clock.elapsed >= clock.target else 0
        for seq in (passed, passed + 1):
            planned = clock.reescalation_at(seq, every) if seq > 0 else None
            if planned is not None:
                found.append(_Candidate(1.0, seq, planned, policy.breach_audiences))
    return found


def plan_nudges(
    clock: TicketClock,
    policy: Policy,
    sent: Iterable[SentNudge],
    now: datetime,
    *,
    grace: timedelta = LATE_GRACE,
) -> NudgePlan:
    """The nudges due at ``now`` for one ticket, those to skip, and when to look again."""
    now = as_utc(now, "now")
    done = {_key(s.metric, s.threshold, s.seq, s.cycle) for s in sent}
    due: list[NudgeDue] = []
    skipped: list[NudgeDue] = []
    upcoming: list[datetime] = []
    for metric_clock in clock.metrics.values():
        if not metric_clock.running:
            continue
        metric, cycle = metric_clock.metric, metric_clock.cycle
        fresh, bar = _candidates(metric_clock, policy), (0.0, -1)
        if done:  # a new ticket has sent nothing: no keys to compare
            unsent = []
            for candidate in fresh:
                if _key(metric, candidate.threshold, candidate.seq, cycle) in done:
                    bar = max(bar, candidate.severity)
                else:
                    unsent.append(candidate)
            fresh = unsent
        overdue = sorted((c for c in fresh if c.planned_at <= now), key=lambda c: c.severity)
        if overdue and overdue[-1].severity > bar:
            chosen = overdue.pop()
            due.append(_nudge(metric, cycle, chosen, late=now - chosen.planned_at > grace))
            bar = chosen.severity
        skipped.extend(_nudge(metric, cycle, c, late=True) for c in overdue)
        upcoming.extend(c.planned_at for c in fresh if c.planned_at > now and c.severity > bar)
    return NudgePlan(tuple(due), min(upcoming, default=None), tuple(skipped))


def _nudge(metric: Metric, cycle: int, candidate: _Candidate, *, late: bool) -> NudgeDue:
    return NudgeDue(
        metric=metric,
        threshold=candidate.threshold,
        seq=candidate.seq,
        planned_at=candidate.planned_at,
        late=late,
        audiences=candidate.audiences,
        cycle=cycle,
    )


__all__ = ["LATE_GRACE", "NudgeDue", "NudgePlan", "SentNudge", "plan_nudges"]
