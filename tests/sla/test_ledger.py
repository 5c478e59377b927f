"""The ledger of a clock: every second of every metric accounted for, and the reason told."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.ledger import NudgeRecord, ThresholdStatus, explain
from sla.policy import Policy
from sla.segments import SegmentKind
from sla.targets import Metric, Priority, Targets

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {d: [("09:00", "17:00")] for d in WEEKDAYS}
CALENDARS = [
    BusinessCalendar("UTC", OFFICE, holidays=[date(2026, 12, 25)]),
    BusinessCalendar.from_country("America/New_York", OFFICE, country="US"),
    BusinessCalendar("Europe/London", {d: [("22:00", "06:00")] for d in ("sun", "mon", "tue")},
                     holidays=[date(2026, 3, 30)]),
    BusinessCalendar.from_country("Australia/Sydney",
                                  {**OFFICE, "sat": [("10:00", "14:00")]}, country="AU"),
    BusinessCalendar.always("Europe/Berlin"),
]
NEXT = {p: Targets(t.first_response, t.resolution, timedelta(hours=2))
        for p, t in Policy.default().targets.items()}
H = timedelta(hours=1)
M = timedelta(minutes=1)
# Mon 2026-03-02 .. spans the US and EU spring-forward days of March 2026.
BASE = datetime(2026, 3, 2, tzinfo=UTC)


def at(day: int, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return BASE + timedelta(days=day, hours=hour, minutes=minute)


kinds = st.sampled_from([
    EventKind.RESPONDED, EventKind.REQUESTER_REPLIED, EventKind.PAUSED, EventKind.RESUMED,
    EventKind.PRIORITY_CHANGED, EventKind.RESOLVED, EventKind.REOPENED,
])


@st.composite
def histories(draw):
    start = BASE + timedelta(seconds=draw(st.integers(0, 40 * 86_400)))
    events = [ClockEvent(EventKind.CREATED, start, draw(st.sampled_from(list(Priority))))]
    offsets = sorted(draw(st.lists(st.integers(0, 20 * 86_400), max_size=12)))
    for offset in offsets:
        kind = draw(kinds)
        priority = draw(st.sampled_from(list(Priority))) if kind is EventKind.PRIORITY_CHANGED \
            else None
        events.append(ClockEvent(kind, start + timedelta(seconds=offset), priority))
    now = start + timedelta(seconds=draw(st.integers(0, 25 * 86_400)))
    return events, now


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(CALENDARS), st.booleans())
def test_ledger_totals_equal_the_clock_to_the_microsecond(history, calendar, next_response):
    events, now = history
    policy = Policy.default(calendar)
    if next_response:
        policy = Policy(calendar, NEXT, reescalate_every=H)
    clock = compute_clock(events, policy, now)
    ledger = explain(events, policy, now)
    assert {m.metric for m in ledger.metrics} == set(clock.metrics)
    for metric in ledger.metrics:
        assert metric.counted == clock.metrics[metric.metric].elapsed
        # Segments tile the metric's span without gaps or overlaps.
        span_end = metric.clock.stopped_at or now
        if metric.segments:
            assert metric.segments[0].start == metric.clock.started_at
            assert metric.segments[-1].end == span_end
            for before, after in zip(metric.segments, metric.segments[1:], strict=False):
                assert before.end == after.start
        else:
            assert metric.clock.started_at == span_end
        assert all(s.counted == timedelta(0) for s in metric.segments
                   if s.kind is not SegmentKind.RUNNING)
    assert ledger.verdict


def office_policy() -> Policy:
    return Policy.default(CALENDARS[0])


def test_ledger_shows_the_weekend_the_pause_reason_and_the_holiday():
    # Fri 2026-12-25 is a holiday; a P3 ticket on Thu 16:00, paused Mon 10:00 to 11:00.
    start = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    events = [
        ClockEvent(EventKind.CREATED, start, Priority.P3),
        ClockEvent(EventKind.PAUSED, datetime(2026, 12, 28, 10, tzinfo=UTC)),
        ClockEvent(EventKind.RESUMED, datetime(2026, 12, 28, 11, tzinfo=UTC)),
    ]
    now = datetime(2026, 12, 28, 12, tzinfo=UTC)
    reasons = {datetime(2026, 12, 28, 10, tzinfo=UTC): "waiting on <customer>"}
    ledger = explain(events, office_policy(), now, pause_reasons=reasons)
    first = next(m for m in ledger.metrics if m.metric is Metric.FIRST_RESPONSE)
    kinds = [s.kind for s in first.segments]
    assert kinds == [
        SegmentKind.RUNNING, SegmentKind.CLOSED, SegmentKind.HOLIDAY, SegmentKind.CLOSED,
        SegmentKind.RUNNING, SegmentKind.PAUSED, SegmentKind.RUNNING,
    ]
    paused = first.segments[5]
    assert paused.reason == "waiting on <customer>"
    assert paused.held == H
    assert first.counted == 3 * H  # Thu 16-17, Mon 09-10, Mon 11-12
    holiday = first.segments[2]
    assert (holiday.start, holiday.end) == (datetime(2026, 12, 25, tzinfo=UTC),
                                             datetime(2026, 12, 26, tzinfo=UTC))
    assert ledger.state == "at risk"  # 3h of P3's 4h first response, due 13:00


def test_verdict_says_fine_with_the_time_left():
    events = [ClockEvent(EventKind.CREATED, at(0, "09:00"), Priority.P3)]
    ledger = explain(events, office_policy(), at(0, "10:00"))
    assert ledger.state == "fine"
    assert "3h of business time left" in ledger.verdict


def test_verdict_names_the_priority_raise_behind_a_breach():
    events = [
        ClockEvent(EventKind.CREATED, at(0, "09:00"), Priority.P3),
        ClockEvent(EventKind.PRIORITY_CHANGED, at(0, "09:40"), Priority.P1),
    ]
    ledger = explain(events, office_policy(), at(0, "10:00"))
    assert ledger.state == "breached"
    assert "first response ran 1h of business time against its 15m P1 target (45m over)" \
        in ledger.verdict
    assert "priority changed to P1" in ledger.verdict


def test_verdict_is_at_risk_near_the_due_instant():
    events = [ClockEvent(EventKind.CREATED, at(0, "09:00"), Priority.P2)]
    ledger = explain(events, office_policy(), at(0, "09:50"))
    assert ledger.state == "at risk"
    assert "10m left" in ledger.verdict


def test_thresholds_say_sent_will_fire_and_not_reached():
    events = [ClockEvent(EventKind.CREATED, at(0, "09:00"), Priority.P2)]
    sent = [NudgeRecord(Metric.FIRST_RESPONSE, 0.5, 0, 0, "sent", at(0, "09:30"))]
    ledger = explain(events, office_policy(), at(0, "09:40"), nudges=sent)
    first = next(m for m in ledger.metrics if m.metric is Metric.FIRST_RESPONSE)
    statuses = {t.fraction: (t.status, t.planned_at) for t in first.thresholds}
    assert statuses[0.5] == (ThresholdStatus.SENT, at(0, "09:30"))
    assert statuses[0.8] == (ThresholdStatus.WILL_FIRE, at(0, "09:48"))
    assert statuses[1.0] == (ThresholdStatus.WILL_FIRE, at(0, "10:00"))
    done = explain([*events, ClockEvent(EventKind.RESPONDED, at(0, "09:45"))],
                   office_policy(), at(0, "11:00"), nudges=sent)
    first = next(m for m in done.metrics if m.metric is Metric.FIRST_RESPONSE)
    assert [t.status for t in first.thresholds] == [
        ThresholdStatus.SENT, ThresholdStatus.NOT_REACHED, ThresholdStatus.NOT_REACHED]


def test_reopened_ticket_shows_the_resolved_spell_as_held():
    events = [
        ClockEvent(EventKind.CREATED, at(0, "09:00"), Priority.P3),
        ClockEvent(EventKind.RESPONDED, at(0, "09:10")),
        ClockEvent(EventKind.RESOLVED, at(0, "10:00")),
        ClockEvent(EventKind.REOPENED, at(0, "12:00")),
    ]
    ledger = explain(events, office_policy(), at(0, "13:00"))
    resolution = next(m for m in ledger.metrics if m.metric is Metric.RESOLUTION)
    resolved = [s for s in resolution.segments if s.kind is SegmentKind.RESOLVED]
    assert len(resolved) == 1 and resolved[0].held == 2 * H
    assert resolution.counted == 2 * H
    assert ledger.reopens == 1
