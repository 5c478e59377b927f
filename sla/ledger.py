"""The ledger of a ticket's clock: where every second of each metric went, and why.

``explain(events, policy, now)`` replays the ticket exactly as ``compute_clock`` does and cuts
each metric's span (from its start to its stop, or ``now``) into segments (``sla.segments``):

- ``running``: business time that counted;
- ``paused`` (with the reason given when pausing): held, nothing counted;
- ``resolved``: the time a reopened ticket spent resolved, held;
- ``outside business hours`` and ``holiday``: the calendar was closed, nothing counted.

Each metric lists its thresholds (nudges, breach, re-escalations) with what happened to each:
sent, pending, skipped, due now, will fire at an instant, held while paused, or never
reached. ``ledger.verdict`` answers "why is this breached / at risk / fine" in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sla.breach import Standing, is_breached, metric_standing
from sla.calendar import BusinessCalendar
from sla.causes import Cause, CauseKind, breach_causes, main_cause
from sla.clock import MetricClock, TicketClock, compute_clock
from sla.durations import format_business_duration
from sla.events import ClockEvent, EventKind, as_utc
from sla.policy import Policy
from sla.replay import replay
from sla.segments import Held, Segment, SegmentKind, segments
from sla.targets import Metric, Priority

METRIC_NAMES = {
    Metric.FIRST_RESPONSE: "first response",
    Metric.NEXT_RESPONSE: "next response",
    Metric.RESOLUTION: "resolution",
}


class ThresholdStatus(StrEnum):
    """What happened (or will) at one threshold of a metric."""

    SENT = "sent"
    PENDING = "pending"
    SKIPPED = "skipped"
    DUE = "due now"
    WILL_FIRE = "will fire"
    HELD = "held while paused"
    NOT_REACHED = "not reached"
    PASSED = "passed, no nudge recorded"


@dataclass(frozen=True)
class NudgeRecord:
    """A nudge the bot recorded for the ticket: its key, state and when it was sent or planned."""

    metric: Metric
    threshold: float
    seq: int
    cycle: int
    state: str
    at: datetime | None
    late: bool = False


@dataclass(frozen=True)
class Threshold:
    """One threshold of a metric: ``fraction`` of the target (1.0 the breach; ``seq`` > 0 is
    re-escalation n), the business time it stands for and what became of it."""

    fraction: float
    seq: int
    business_time: timedelta
    planned_at: datetime | None
    status: ThresholdStatus
    at: datetime | None = None
    late: bool = False


@dataclass(frozen=True)
class MetricLedger:
    """One metric: its clock, its segments and its thresholds."""

    clock: MetricClock
    segments: tuple[Segment, ...]
    thresholds: tuple[Threshold, ...]
    priority: Priority
    causes: tuple[Cause, ...] = ()  # why it breached, in rule order (sla.causes)

    @property
    def metric(self) -> Metric:
        return self.clock.metric

    @property
    def cause(self) -> Cause | None:
        """The one cause of this metric's breach (None when it did not breach)."""
        return main_cause(self.causes, self.metric) if self.clock.breached else None

    @property
    def counted(self) -> timedelta:
        """Business time of the running segments (equals ``clock.elapsed``)."""
        return sum((s.counted for s in self.segments), timedelta(0))

    def total(self, kind: SegmentKind) -> timedelta:
        """Wall time spent in segments of ``kind``."""
        return sum((s.wall for s in self.segments if s.kind is kind), timedelta(0))

    def held(self) -> timedelta:
        """Business time kept off the clock by pauses and resolved spells."""
        return sum((s.held for s in self.segments), timedelta(0))


@dataclass(frozen=True)
class TicketLedger:
    """A ticket's clock at ``now`` explained metric by metric, with a one-line verdict."""

    clock: TicketClock
    metrics: tuple[MetricLedger, ...]
    verdict: str
    state: str  # "breached", "at risk", "paused", "fine" or "resolved"
    priority_changes: tuple[tuple[datetime, Priority], ...] = ()
    reopens: int = 0


def explain(
    events: Sequence[ClockEvent],
    policy: Policy,
    now: datetime,
    *,
    pause_reasons: Mapping[datetime, str] | None = None,
    nudges: Iterable[NudgeRecord] = (),
    handed_over: Sequence[datetime] = (),
) -> TicketLedger:
    """The ledger of a ticket at ``now``: ``compute_clock`` with every second accounted for.

    ``pause_reasons`` maps the instant of a PAUSED event to the reason given; ``nudges`` are
    the nudges recorded for the ticket (to say which thresholds fired, and when);
    ``handed_over`` the instants it passed from one assignee to another (``sla.causes``).
    """
    now = as_utc(now, "now")
    clock = compute_clock(events, policy, now)
    walk = replay(events, policy.default_priority, now)
    spans = {span.metric: span for span in walk.spans()}
    reasons = {as_utc(at, "pause"): text for at, text in (pause_reasons or {}).items()}
    paused: list[Held] = [(a, b, SegmentKind.PAUSED, reasons.get(a)) for a, b in walk.pauses]
    if walk.paused_since is not None:
        since = walk.paused_since
        paused.append((since, now, SegmentKind.PAUSED, reasons.get(since)))
    records = list(nudges)
    changes = tuple(
        (e.at, e.priority) for e in sorted(events, key=lambda e: e.at)
        if e.kind is EventKind.PRIORITY_CHANGED and e.at <= now and e.priority is not None
        and clock.created_at is not None and e.at >= clock.created_at
    )
    reopens = len(walk.resolved_gaps)
    ledgers = []
    for metric_clock in clock.metrics.values():
        span = spans[metric_clock.metric]
        # A reopen takes back a resolve: the resolved spell counts for no metric it held.
        held = paused + [(a, b, SegmentKind.RESOLVED, None) for a, b in span.gaps]
        end = metric_clock.stopped_at or now
        cut = tuple(segments(policy.calendar, metric_clock.started_at, end, held))
        causes = () if not metric_clock.breached else breach_causes(
            metric_clock, cut, span.priority, changes=changes, reopens=reopens,
            handed_over=handed_over)
        ledgers.append(MetricLedger(
            clock=metric_clock, segments=cut,
            thresholds=tuple(_thresholds(metric_clock, policy, records, now)),
            priority=span.priority, causes=causes,
        ))
    state, verdict = _verdict(clock, ledgers, now, policy.calendar)
    return TicketLedger(clock, tuple(ledgers), verdict, state, changes, reopens)


# -- thresholds ---------------------------------------------------------------------------------


def _thresholds(
    clock: MetricClock, policy: Policy, records: Sequence[NudgeRecord], now: datetime
) -> list[Threshold]:
    mine = {
        (round(r.threshold, 6), r.seq): r
        for r in records
        if Metric(r.metric) is clock.metric and r.cycle == clock.cycle
    }
    wanted = [(rule.fraction, 0, clock.target * rule.fraction) for rule in policy.nudges]
    every = policy.reescalate_every
    if every is not None:
        seqs = {seq for (_, seq) in mine if seq > 0}
        if clock.elapsed >= clock.target and not clock.stopped:
            seqs.add((clock.elapsed - clock.target) // every + 1)  # the next one ahead
        wanted += [(1.0, seq, clock.target + every * seq) for seq in sorted(seqs)]
    found = []
    for fraction, seq, business in wanted:
        record = mine.get((round(fraction, 6), seq))
        planned = None if clock.stopped and business > clock.elapsed else clock.instant_at(business)
        if record is not None:
            status = {
                "sent": ThresholdStatus.SENT,
                "skipped": ThresholdStatus.SKIPPED,
                "cancelled": ThresholdStatus.SKIPPED,
            }.get(record.state, ThresholdStatus.PENDING)
            found.append(Threshold(fraction, seq, business, planned, status, record.at,
                                   record.late))
        elif clock.stopped:
            reached = clock.elapsed > business or (business == clock.elapsed and fraction < 1)
            status = ThresholdStatus.PASSED if reached else ThresholdStatus.NOT_REACHED
            found.append(Threshold(fraction, seq, business, planned, status))
        elif clock.due_at is None:  # paused: no instant until it resumes
            status = (
                ThresholdStatus.PASSED if clock.elapsed >= business else ThresholdStatus.HELD
            )
            found.append(Threshold(fraction, seq, business, None, status))
        elif planned is not None and planned <= now:
            found.append(Threshold(fraction, seq, business, planned, ThresholdStatus.DUE))
        else:
            found.append(Threshold(fraction, seq, business, planned, ThresholdStatus.WILL_FIRE))
    return found


# -- the verdict --------------------------------------------------------------------------------


def _verdict(
    clock: TicketClock,
    ledgers: list[MetricLedger],
    now: datetime,
    calendar: BusinessCalendar,
) -> tuple[str, str]:
    if not ledgers:
        return "fine", "No SLA target applies to this ticket."
    breached = [m for m in ledgers if m.clock.breached]
    if breached:
        worst = max(breached, key=lambda m: m.clock.elapsed - m.clock.target)
        return "breached", _why_breached(worst, calendar)
    running = [m for m in ledgers if not m.clock.stopped]
    if clock.paused and running:
        held = running[0].segments[-1] if running[0].segments else None
        reason = f" ({held.reason})" if held is not None and held.reason else ""
        since = clock.paused_since
        left = min(running, key=lambda m: m.clock.remaining)
        return "paused", (
            f"Paused since {when(since, calendar)}{reason}: no clock runs; "
            f"{METRIC_NAMES[left.metric]} has {format_business_duration(left.clock.remaining)} "
            "left when it resumes."
        )
    # Nothing is breached here; past its due instant yet not over its target (the calendar
    # closed right at the due instant) is still at risk.
    near = (Standing.AT_RISK, Standing.BREACHED_NOW)
    at_risk = [m for m in running if metric_standing(m.clock, now) in near]
    if at_risk:
        worst = min(at_risk, key=lambda m: m.clock.remaining)
        c = worst.clock
        return "at risk", (
            f"At risk: {METRIC_NAMES[worst.metric]} has used "
            f"{format_business_duration(c.elapsed)} of its {format_business_duration(c.target)} "
            f"{worst.priority} target ({c.fraction:.0%}); "
            f"{format_business_duration(c.remaining)} left, due {when(c.due_at, calendar)}."
        )
    if running:
        soonest = min(running, key=lambda m: m.clock.remaining)
        c = soonest.clock
        return "fine", (
            f"Fine: {METRIC_NAMES[soonest.metric]} has "
            f"{format_business_duration(c.remaining)} of business time left "
            f"({c.fraction:.0%} used), due {when(c.due_at, calendar)}."
        )
    closest = min(ledgers, key=lambda m: m.clock.remaining)
    return "resolved", (
        f"Fine: every target met; closest was {METRIC_NAMES[closest.metric]} with "
        f"{format_business_duration(closest.clock.remaining)} to spare."
    )


def _why_breached(ledger: MetricLedger, calendar: BusinessCalendar) -> str:
    c = ledger.clock
    over = None
    if is_breached(c.elapsed, c.target):
        over = format_business_duration(c.elapsed - c.target)
    name = METRIC_NAMES[ledger.metric]
    head = (
        f"Breached: {name} ran {format_business_duration(c.elapsed)} of business time "
        f"against its {format_business_duration(c.target)} {ledger.priority} target"
        + (f" ({over} over)" if over else "")
    )
    if c.earlier_breaches and not over:
        head = f"Breached: an earlier {name} cycle went past its target"
    details = [_detail(cause, calendar) for cause in ledger.causes]
    return head + ("; " + "; ".join(details) if details else "") + "."


def _detail(cause: Cause, calendar: BusinessCalendar) -> str:
    """A cause as the explain verdict tells it (longer than the digest's phrase)."""
    if cause.kind is CauseKind.PRIORITY:
        return f"the priority changed to {cause.priority}, whose target is measured from the start"
    if cause.kind is CauseKind.OUT_OF_HOURS:
        return f"it arrived out of hours and the clock started {when(cause.at, calendar)}"
    if cause.kind is CauseKind.PAUSED:
        return f"paused longer ({format_business_duration(cause.held)}) than worked"
    if cause.kind in (CauseKind.REOPENED, CauseKind.REASSIGNED):
        return f"{cause.kind.value} {cause.times} time{'s' if cause.times != 1 else ''}"
    return cause.phrase


def when(at: datetime | None, calendar: BusinessCalendar) -> str:
    """An instant as people of the calendar's zone read it: ``Mon 07 Dec 10:30 CET``."""
    if at is None:
        return "(no due time while paused)"
    return at.astimezone(calendar.zone).strftime("%a %d %b %H:%M %Z")


__all__ = [
    "MetricLedger",
    "NudgeRecord",
    "Threshold",
    "ThresholdStatus",
    "TicketLedger",
    "explain",
    "when",
]
