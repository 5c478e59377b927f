"""Specification of escalation planning: which nudges fire now, which are skipped, when to wake."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.escalation import NudgeDue, SentNudge, plan_nudges
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Audience, Metric, Priority

M = timedelta(minutes=1)
S = timedelta(seconds=1)
OFFICE = BusinessCalendar(
    "UTC", {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
)
# P1: first response 15m (nudges at 7m30s, 12m, breach 15m), resolution 4h.
POLICY = Policy.default(OFFICE)
MONDAY = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HALF, FOUR_FIFTHS, BREACH = MONDAY + 7.5 * M, MONDAY + 12 * M, MONDAY + 15 * M
ESCALATION = {Audience.THREAD, Audience.ESCALATION_CHANNEL, Audience.MANAGERS}


def ticket(*events: ClockEvent, priority: Priority = Priority.P1) -> list[ClockEvent]:
    return [ClockEvent(EventKind.CREATED, MONDAY, priority), *events]


def plan(events, now, sent=(), policy=POLICY):
    clock = compute_clock(events, policy, now)
    return plan_nudges(clock, policy, sent, now)


def first_response(nudges: tuple[NudgeDue, ...]) -> list[tuple[float, int]]:
    return [(n.threshold, n.seq) for n in nudges if n.metric is Metric.FIRST_RESPONSE]


def test_nothing_is_due_before_half_the_target_and_the_wake_up_is_at_half():
    result = plan(ticket(), MONDAY + 5 * M)
    assert result.due == () and result.skipped == ()
    assert result.next_wake_at == HALF


def test_at_half_the_target_the_thread_is_nudged_on_time():
    result = plan(ticket(), HALF)
    (nudge,) = result.due
    assert (nudge.metric, nudge.threshold, nudge.seq) == (Metric.FIRST_RESPONSE, 0.5, 0)
    assert nudge.planned_at == HALF
    assert nudge.audiences == {Audience.THREAD}
    assert not nudge.late
    assert result.next_wake_at == FOUR_FIFTHS


def test_a_nudge_already_sent_is_never_due_again():
    sent = [SentNudge(Metric.FIRST_RESPONSE, 0.5)]
    result = plan(ticket(), HALF + 2 * M, sent)
    assert result.due == ()
    assert result.next_wake_at == FOUR_FIFTHS


def test_a_sent_record_read_back_as_an_imprecise_float_still_matches():
    sent = [SentNudge(Metric.FIRST_RESPONSE, 0.1 + 0.7, 0)]  # 0.7999999999999999
    assert first_response(plan(ticket(), FOUR_FIFTHS, sent).due) == []


def test_after_downtime_only_the_most_severe_overdue_nudge_fires_late():
    result = plan(ticket(), FOUR_FIFTHS + 2 * M)
    (nudge,) = result.due
    assert (nudge.threshold, nudge.late) == (0.8, True)
    assert nudge.audiences == {Audience.THREAD, Audience.ASSIGNEE}
    assert first_response(result.skipped) == [(0.5, 0)]
    assert result.next_wake_at == BREACH


def test_after_downtime_past_the_breach_only_the_breach_escalates():
    result = plan(ticket(), BREACH + 30 * M)
    assert first_response(result.due) == [(1.0, 0)]
    assert result.due[0].audiences == ESCALATION
    assert result.due[0].late
    assert sorted(first_response(result.skipped)) == [(0.5, 0), (0.8, 0)]


def test_a_nudge_within_the_grace_period_is_not_late():
    assert not plan(ticket(), HALF + 59 * S).due[0].late
    assert plan(ticket(), HALF + 61 * S).due[0].late


def test_a_threshold_less_severe_than_one_already_sent_is_skipped_not_sent():
    sent = [SentNudge(Metric.FIRST_RESPONSE, 0.8)]
    result = plan(ticket(), FOUR_FIFTHS + M, sent)
    assert first_response(result.due) == []
    assert first_response(result.skipped) == [(0.5, 0)]
    assert result.next_wake_at == BREACH


def test_re_escalation_repeats_after_the_breach_every_interval_of_business_time():
    policy = POLICY.with_nudges([0.5, 0.8], 30 * M)
    breach_sent = [SentNudge(Metric.FIRST_RESPONSE, t) for t in (0.5, 0.8, 1.0)]
    waiting = plan(ticket(), BREACH + 10 * M, breach_sent, policy)
    assert first_response(waiting.due) == []
    assert waiting.next_wake_at == BREACH + 30 * M

    first = plan(ticket(), BREACH + 30 * M, breach_sent, policy)
    assert first_response(first.due) == [(1.0, 1)]
    assert first.due[0].audiences == ESCALATION
    assert first.next_wake_at == BREACH + 60 * M


def test_after_long_downtime_only_the_latest_re_escalation_fires():
    policy = POLICY.with_nudges([0.5, 0.8], 30 * M)
    sent = [SentNudge(Metric.FIRST_RESPONSE, t) for t in (0.5, 0.8, 1.0)]
    sent.append(SentNudge(Metric.RESOLUTION, 0.5))  # due at 11:00, not the point here
    result = plan(ticket(), BREACH + 100 * M, sent, policy)
    assert first_response(result.due) == [(1.0, 3)]
    assert result.due[0].planned_at == BREACH + 90 * M
    assert result.next_wake_at == BREACH + 120 * M


def test_re_escalation_waits_for_business_hours():
    policy = POLICY.with_nudges([0.5, 0.8], 30 * M)
    events = [ClockEvent(EventKind.CREATED, MONDAY.replace(hour=16, minute=40), Priority.P1)]
    sent = [SentNudge(Metric.FIRST_RESPONSE, t) for t in (0.5, 0.8, 1.0)]
    # Breach at 16:55; the re-escalation's 30 minutes run 16:55-17:00 and 09:00-09:25.
    result = plan(events, MONDAY.replace(hour=16, minute=58), sent, policy)
    assert result.next_wake_at == MONDAY + timedelta(days=1, minutes=25)


def test_paused_tickets_get_no_nudges_and_no_wake_up():
    events = ticket(ClockEvent(EventKind.PAUSED, MONDAY + M))
    result = plan(events, BREACH + 60 * M)
    assert result.due == () and result.skipped == ()
    assert result.next_wake_at is None


def test_a_stopped_metric_gets_nothing_while_the_others_carry_on():
    events = ticket(ClockEvent(EventKind.RESPONDED, MONDAY + 5 * M))
    result = plan(events, MONDAY + 3 * 60 * M)
    assert first_response(result.due) == []
    (nudge,) = result.due
    assert (nudge.metric, nudge.threshold) == (Metric.RESOLUTION, 0.5)
    assert result.next_wake_at == MONDAY + 0.8 * 4 * 60 * M


def test_a_resolved_ticket_gets_nothing():
    events = ticket(ClockEvent(EventKind.RESOLVED, MONDAY + 5 * M))
    result = plan(events, MONDAY + 5 * 60 * M)
    assert result.due == () and result.next_wake_at is None


def test_each_metric_gets_its_own_most_severe_nudge():
    result = plan(ticket(), MONDAY + 2 * 60 * M)
    assert sorted((n.metric.value, n.threshold) for n in result.due) == [
        ("first_response", 1.0),
        ("resolution", 0.5),
    ]


def test_a_new_next_response_cycle_is_nudged_again():
    policy = POLICY.with_target(Priority.P1, Metric.NEXT_RESPONSE, 20 * M)
    events = ticket(
        ClockEvent(EventKind.RESPONDED, MONDAY + M),
        ClockEvent(EventKind.REQUESTER_REPLIED, MONDAY + 2 * M),
        ClockEvent(EventKind.RESPONDED, MONDAY + 15 * M),
        ClockEvent(EventKind.REQUESTER_REPLIED, MONDAY + 20 * M),
    )
    sent = [SentNudge(Metric.NEXT_RESPONSE, 0.5, 0, cycle=0)]
    result = plan(events, MONDAY + 30 * M, sent, policy)
    (nudge,) = [n for n in result.due if n.metric is Metric.NEXT_RESPONSE]
    assert (nudge.threshold, nudge.cycle, nudge.planned_at) == (0.5, 1, MONDAY + 30 * M)
    assert nudge.sent == SentNudge(Metric.NEXT_RESPONSE, 0.5, 0, 1)


@settings(max_examples=80, deadline=None)
@given(
    now_min=st.integers(0, 8 * 60),
    sent_fractions=st.sets(st.sampled_from([0.5, 0.8, 1.0])),
    every=st.sampled_from([None, 15 * M, 45 * M]),
)
def test_plans_never_repeat_a_sent_nudge_and_fire_at_most_one_per_metric(
    now_min, sent_fractions, every
):
    policy = POLICY.with_nudges([0.5, 0.8], every)
    now = MONDAY + now_min * M
    sent = [SentNudge(metric, f) for metric in Metric for f in sent_fractions]
    result = plan(ticket(), now, sent, policy)
    done = {(s.metric, s.threshold, s.seq) for s in sent}
    metrics = [n.metric for n in result.due]
    assert len(metrics) == len(set(metrics))
    for nudge in result.due:
        assert (nudge.metric, nudge.threshold, nudge.seq) not in done
        assert nudge.planned_at <= now
    assert not {(n.metric, n.threshold, n.seq) for n in result.skipped} & done
    assert result.next_wake_at is None or result.next_wake_at > now


def test_no_wake_up_for_a_threshold_less_severe_than_one_already_sent():
    sent = [SentNudge(Metric.FIRST_RESPONSE, 1.0)]  # e.g. escalated by hand
    result = plan(ticket(), MONDAY + 5 * M, sent)
    assert result.next_wake_at == MONDAY + 2 * 60 * M  # resolution's 50%, not 09:07:30
