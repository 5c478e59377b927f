"""Specification of ticket SLA clocks: what each metric shows for a ticket's events at ``now``."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from sla.clock import MetricState, compute_clock
from sla.events import ClockError, ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority

M = timedelta(minutes=1)
H = timedelta(hours=1)
OFFICE = BusinessCalendar(
    "UTC", {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
)
POLICY = Policy.default(OFFICE)  # P1 15m/4h, P2 1h/8h, P3 4h/24h, P4 8h/40h
WITH_NEXT_RESPONSE = POLICY.with_target(Priority.P3, Metric.NEXT_RESPONSE, 30 * M)


def at(day: str, hhmm: str) -> datetime:
    """An instant in the week of Monday 2 June 2025 (UTC); day is mon..sun or next-mon."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "next-mon"]
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2025, 6, 2, hours, minutes, tzinfo=UTC) + timedelta(days=days.index(day))


def created(when: datetime, priority: Priority | None = Priority.P3) -> ClockEvent:
    return ClockEvent(EventKind.CREATED, when, priority)


def event(kind: EventKind, when: datetime, priority: Priority | None = None) -> ClockEvent:
    return ClockEvent(kind, when, priority)


def clock_of(events, now, policy=POLICY):
    return compute_clock(events, policy, now)


def test_running_first_response_shows_elapsed_remaining_and_due():
    clock = clock_of([created(at("mon", "09:00"), Priority.P1)], at("mon", "09:05"))
    first = clock.metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.RUNNING
    assert (first.elapsed, first.remaining, first.target) == (5 * M, 10 * M, 15 * M)
    assert first.due_at == at("mon", "09:15")
    assert first.stopped_at is None
    assert not first.breached
    assert first.fraction == pytest.approx(1 / 3)
    assert clock.priority is Priority.P1
    assert not clock.paused and not clock.resolved


@pytest.mark.parametrize(
    ("responded", "state", "breached"),
    [
        ("09:10", MetricState.MET, False),
        ("09:15", MetricState.MET, False),  # exactly on target is met
        ("09:16", MetricState.BREACHED, True),
    ],
)
def test_first_response_stops_at_the_first_response(responded, state, breached):
    events = [
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.RESPONDED, at("mon", responded)),
        event(EventKind.RESPONDED, at("mon", "09:30")),
    ]
    first = clock_of(events, at("tue", "12:00")).metrics[Metric.FIRST_RESPONSE]
    assert first.state is state
    assert first.breached is breached
    assert first.stopped_at == at("mon", responded)
    assert first.due_at == at("mon", "09:15")


def test_one_second_past_the_target_is_a_breach():
    events = [created(at("mon", "09:00"), Priority.P1)]
    now = at("mon", "09:15") + timedelta(seconds=1)
    first = clock_of(events, now).metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.BREACHED
    assert first.remaining == -timedelta(seconds=1)
    assert first.breached and not first.stopped


def test_clock_counts_only_business_hours_over_the_weekend():
    events = [created(at("fri", "16:50"), Priority.P1)]
    first = clock_of(events, at("next-mon", "09:10")).metrics[Metric.FIRST_RESPONSE]
    assert first.elapsed == 20 * M
    assert first.due_at == at("next-mon", "09:05")
    assert first.state is MetricState.BREACHED


def test_a_ticket_created_out_of_hours_starts_counting_at_opening():
    events = [created(at("sat", "11:00"), Priority.P1)]
    first = clock_of(events, at("next-mon", "09:05")).metrics[Metric.FIRST_RESPONSE]
    assert first.elapsed == 5 * M
    assert first.due_at == at("next-mon", "09:15")


def test_pause_holds_every_clock_and_hides_the_due_instant():
    events = [
        created(at("mon", "09:00"), Priority.P2),
        event(EventKind.PAUSED, at("mon", "09:20")),
    ]
    clock = clock_of(events, at("mon", "15:00"))
    assert clock.paused and clock.paused_since == at("mon", "09:20")
    for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
        held = clock.metrics[metric]
        assert held.state is MetricState.PAUSED
        assert held.elapsed == 20 * M
        assert held.due_at is None
    assert clock.next_event_at is None


def test_resuming_moves_the_due_instant_out_by_the_paused_business_time():
    events = [
        created(at("mon", "09:00"), Priority.P2),
        event(EventKind.PAUSED, at("mon", "09:20")),
        event(EventKind.RESUMED, at("mon", "10:20")),
    ]
    first = clock_of(events, at("mon", "10:30")).metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.RUNNING
    assert first.elapsed == 30 * M
    assert first.due_at == at("mon", "11:00")


def test_a_breached_metric_stays_breached_while_paused():
    events = [
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.PAUSED, at("mon", "09:30")),
    ]
    first = clock_of(events, at("mon", "12:00")).metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.PAUSED
    assert first.breached


def test_reopen_resumes_resolution_where_it_stopped():
    events = [
        created(at("mon", "09:00"), Priority.P2),
        event(EventKind.RESPONDED, at("mon", "09:10")),
        event(EventKind.RESOLVED, at("mon", "10:00")),
        event(EventKind.REOPENED, at("mon", "13:00")),
    ]
    clock = clock_of(events, at("mon", "14:00"))
    resolution = clock.metrics[Metric.RESOLUTION]
    assert not clock.resolved
    assert resolution.state is MetricState.RUNNING
    assert resolution.elapsed == 2 * H  # 09:00-10:00 and 13:00-14:00
    # 7 hours were left at the reopen: Monday 13-17 and Tuesday 9-12.
    assert resolution.due_at == at("tue", "12:00")
    assert resolution.stopped_at is None


def test_resolve_stops_resolution_and_a_second_resolve_is_ignored():
    events = [
        created(at("mon", "09:00"), Priority.P2),
        event(EventKind.RESPONDED, at("mon", "09:10")),
        event(EventKind.RESOLVED, at("mon", "11:00")),
        event(EventKind.RESOLVED, at("tue", "11:00")),
    ]
    clock = clock_of(events, at("wed", "09:00"))
    resolution = clock.metrics[Metric.RESOLUTION]
    assert clock.resolved
    assert resolution.state is MetricState.MET
    assert resolution.stopped_at == at("mon", "11:00")
    assert resolution.elapsed == 2 * H
    assert clock.next_event_at is None


def test_resolving_without_a_response_also_stops_first_response():
    events = [
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.RESOLVED, at("mon", "10:00")),
    ]
    first = clock_of(events, at("tue", "09:00")).metrics[Metric.FIRST_RESPONSE]
    assert first.stopped_at == at("mon", "10:00")
    assert first.state is MetricState.BREACHED


def test_a_resolve_taken_back_by_a_reopen_is_no_first_response():
    # An agent who never answered resolves, then reopens: first response runs on, without
    # the hours the ticket spent resolved, and breaches when nobody answers in time.
    events = [
        created(at("mon", "09:00"), Priority.P2),  # first response 1h
        event(EventKind.RESOLVED, at("mon", "09:20")),
        event(EventKind.REOPENED, at("mon", "12:00")),
    ]
    first = clock_of(events, at("mon", "12:30")).metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.RUNNING and first.stopped_at is None
    assert first.elapsed == 50 * M
    assert first.due_at == at("mon", "12:40")
    answered = [*events, event(EventKind.RESPONDED, at("mon", "12:35"))]
    first = clock_of(answered, at("mon", "13:00")).metrics[Metric.FIRST_RESPONSE]
    assert (first.state, first.stopped_at) == (MetricState.MET, at("mon", "12:35"))
    late = clock_of(events, at("mon", "12:41")).metrics[Metric.FIRST_RESPONSE]
    assert late.state is MetricState.BREACHED


def test_raising_priority_applies_the_new_target_to_the_whole_elapsed_time():
    events = [
        created(at("mon", "09:00"), Priority.P3),
        event(EventKind.PRIORITY_CHANGED, at("mon", "10:00"), Priority.P1),
    ]
    clock = clock_of(events, at("mon", "10:05"))
    first = clock.metrics[Metric.FIRST_RESPONSE]
    assert clock.priority is Priority.P1
    assert first.target == 15 * M
    assert first.due_at == at("mon", "09:15")
    assert first.state is MetricState.BREACHED


def test_a_priority_change_after_a_metric_stopped_leaves_that_metric_alone():
    events = [
        created(at("mon", "09:00"), Priority.P3),
        event(EventKind.RESPONDED, at("mon", "09:30")),
        event(EventKind.PRIORITY_CHANGED, at("mon", "10:00"), Priority.P1),
    ]
    clock = clock_of(events, at("mon", "10:05"))
    assert clock.metrics[Metric.FIRST_RESPONSE].target == 4 * H
    assert clock.metrics[Metric.FIRST_RESPONSE].state is MetricState.MET
    assert clock.metrics[Metric.RESOLUTION].target == 4 * H  # P1 resolution


def test_created_without_priority_uses_the_policy_default():
    clock = clock_of([created(at("mon", "09:00"), None)], at("mon", "09:01"))
    assert clock.priority is Priority.P3
    assert clock.metrics[Metric.FIRST_RESPONSE].target == 4 * H


def test_next_response_is_absent_when_the_policy_does_not_measure_it():
    events = [
        created(at("mon", "09:00")),
        event(EventKind.RESPONDED, at("mon", "09:05")),
        event(EventKind.REQUESTER_REPLIED, at("mon", "09:10")),
    ]
    assert Metric.NEXT_RESPONSE not in clock_of(events, at("mon", "10:00")).metrics


def test_next_response_needs_a_team_response_before_the_requester_reply():
    events = [created(at("mon", "09:00")), event(EventKind.REQUESTER_REPLIED, at("mon", "09:02"))]
    clock = clock_of(events, at("mon", "10:00"), WITH_NEXT_RESPONSE)
    assert Metric.NEXT_RESPONSE not in clock.metrics


def test_next_response_runs_from_the_requester_reply_to_the_next_response():
    events = [
        created(at("mon", "09:00")),
        event(EventKind.RESPONDED, at("mon", "09:05")),
        event(EventKind.REQUESTER_REPLIED, at("mon", "09:10")),
        event(EventKind.REQUESTER_REPLIED, at("mon", "09:20")),  # same cycle, no restart
    ]
    running = clock_of(events, at("mon", "09:30"), WITH_NEXT_RESPONSE)
    cycle = running.metrics[Metric.NEXT_RESPONSE]
    assert (cycle.started_at, cycle.elapsed, cycle.cycle) == (at("mon", "09:10"), 20 * M, 0)
    assert cycle.due_at == at("mon", "09:40")

    answered = [*events, event(EventKind.RESPONDED, at("mon", "09:35"))]
    done = clock_of(answered, at("mon", "11:00"), WITH_NEXT_RESPONSE)
    assert done.metrics[Metric.NEXT_RESPONSE].state is MetricState.MET
    assert done.metrics[Metric.NEXT_RESPONSE].stopped_at == at("mon", "09:35")


def test_a_breached_earlier_next_response_cycle_keeps_the_metric_breached():
    events = [
        created(at("mon", "09:00")),
        event(EventKind.RESPONDED, at("mon", "09:05")),
        event(EventKind.REQUESTER_REPLIED, at("mon", "09:10")),
        event(EventKind.RESPONDED, at("mon", "10:00")),  # 50 minutes: breached
        event(EventKind.REQUESTER_REPLIED, at("mon", "10:05")),
        event(EventKind.RESPONDED, at("mon", "10:10")),  # 5 minutes: met
    ]
    latest = clock_of(events, at("mon", "11:00"), WITH_NEXT_RESPONSE).metrics[Metric.NEXT_RESPONSE]
    assert latest.cycle == 1
    assert latest.state is MetricState.MET
    assert latest.earlier_breaches == 1
    assert latest.breached


def test_events_are_sorted_and_those_before_creation_or_after_now_ignored():
    events = [
        event(EventKind.RESPONDED, at("mon", "09:10")),
        event(EventKind.PAUSED, at("mon", "08:00")),  # before creation: ignored
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.RESOLVED, at("tue", "09:00")),  # after now: ignored
        event(EventKind.RESUMED, at("mon", "09:20")),  # not paused: ignored
    ]
    clock = clock_of(events, at("mon", "10:00"))
    assert clock.metrics[Metric.FIRST_RESPONSE].stopped_at == at("mon", "09:10")
    assert not clock.resolved and not clock.paused
    assert clock.metrics[Metric.RESOLUTION].elapsed == H


def test_instants_in_other_zones_are_normalised_to_utc():
    paris = ZoneInfo("Europe/Paris")
    events = [created(datetime(2025, 6, 2, 11, 0, tzinfo=paris), Priority.P1)]
    clock = clock_of(events, datetime(2025, 6, 2, 11, 5, tzinfo=paris))
    first = clock.metrics[Metric.FIRST_RESPONSE]
    assert first.started_at == at("mon", "09:00") and first.started_at.tzinfo is UTC
    assert first.due_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("events", "now", "message"),
    [
        ([], at("mon", "09:00"), "created"),
        ([created(at("tue", "09:00"))], at("mon", "09:00"), "created"),
        ([created(at("mon", "09:00"))], datetime(2025, 6, 2, 10, 0), "naive"),
    ],
)
def test_clock_errors_explain_what_is_missing(events, now, message):
    with pytest.raises(ClockError, match=message):
        compute_clock(events, POLICY, now)


def test_events_reject_naive_instants_and_priority_changes_without_priority():
    with pytest.raises(ClockError, match="naive"):
        ClockEvent(EventKind.CREATED, datetime(2025, 6, 2, 9, 0))
    with pytest.raises(ClockError, match="new priority"):
        ClockEvent(EventKind.PRIORITY_CHANGED, at("mon", "09:00"))
    assert ClockEvent("responded", at("mon", "09:00")).kind is EventKind.RESPONDED


def test_next_event_is_the_next_nudge_threshold():
    clock = clock_of([created(at("mon", "09:00"), Priority.P1)], at("mon", "09:01"))
    # 50% of P1 first response (15m); resolution's 50% (2h) comes later.
    assert clock.next_event_at == at("mon", "09:07") + timedelta(seconds=30)


def test_next_event_after_breach_is_the_next_re_escalation():
    policy = POLICY.with_nudges([0.5, 0.8], timedelta(minutes=30))
    events = [
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.RESPONDED, at("mon", "09:01")),
    ]
    # Resolution (4h) breached at 13:00; re-escalations at 13:30, 14:00, ...
    clock = clock_of(events, at("mon", "13:40"), policy)
    assert clock.next_event_at == at("mon", "14:00")


def test_instant_at_fraction_matches_the_calendar():
    events = [
        created(at("fri", "15:00"), Priority.P2),
        event(EventKind.PAUSED, at("fri", "15:30")),
        event(EventKind.RESUMED, at("fri", "16:00")),
    ]
    resolution = clock_of(events, at("fri", "16:30")).metrics[Metric.RESOLUTION]
    for fraction in (0.25, 0.5, 0.8, 1.0):
        instant = resolution.instant_at_fraction(fraction)
        business = OFFICE.elapsed(resolution.started_at, instant, resolution.pauses)
        assert business == resolution.target * fraction
    assert resolution.instant_at_fraction(1.0) == resolution.due_at


def test_a_response_during_a_pause_is_measured_without_the_paused_time():
    events = [
        created(at("mon", "09:00"), Priority.P1),
        event(EventKind.PAUSED, at("mon", "09:05")),
        event(EventKind.RESPONDED, at("mon", "10:00")),
    ]
    first = clock_of(events, at("mon", "11:00")).metrics[Metric.FIRST_RESPONSE]
    assert first.state is MetricState.MET
    assert first.elapsed == 5 * M
    assert first.due_at == at("mon", "10:10")  # 10 minutes were left when it paused


# -- properties ----------------------------------------------------------------------------

WEEK_START = at("mon", "00:00")
minutes_into_week = st.integers(min_value=0, max_value=7 * 24 * 60)


@settings(max_examples=60, deadline=None)
@given(
    created_min=minutes_into_week,
    # Minutes after creation and length; every pause is over well before now.
    pauses=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 600)), max_size=3),
    priority=st.sampled_from(list(Priority)),
)
def test_pausing_never_brings_a_due_instant_earlier(created_min, pauses, priority):
    start = WEEK_START + created_min * M
    now = WEEK_START + 14 * 24 * 60 * M
    plain = clock_of([created(start, priority)], now)
    events = [created(start, priority)]
    for begin, length in pauses:
        paused = start + begin * M
        events += [
            event(EventKind.PAUSED, paused),
            event(EventKind.RESUMED, paused + length * M),
        ]
    paused_clock = clock_of(events, now)
    for metric, metric_clock in paused_clock.metrics.items():
        assert metric_clock.due_at >= plain.metrics[metric].due_at
        assert metric_clock.elapsed <= plain.metrics[metric].elapsed


@settings(max_examples=60, deadline=None)
@given(
    created_min=minutes_into_week,
    pause=st.tuples(st.integers(0, 3000), st.integers(0, 3000)),
    now_min=st.integers(0, 6000),
)
def test_on_a_24x7_calendar_elapsed_is_wall_time_minus_pauses(created_min, pause, now_min):
    policy = POLICY.with_calendar(BusinessCalendar.always())
    start = WEEK_START + created_min * M
    paused_at, length = start + pause[0] * M, pause[1] * M
    now = start + now_min * M
    events = [
        created(start, Priority.P4),
        event(EventKind.PAUSED, paused_at),
        event(EventKind.RESUMED, paused_at + length),
    ]
    resolution = compute_clock(events, policy, now).metrics[Metric.RESOLUTION]
    overlap = max(timedelta(0), min(now, paused_at + length) - min(now, paused_at))
    assert resolution.elapsed == (now - start) - overlap
