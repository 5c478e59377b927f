"""Each breach cause from a history built to show it, and the near-miss rule.

Office hours Mon-Fri 09:00-17:00 UTC; stock targets (P1 15m/4h, P2 1h/8h, P3 4h/24h) and,
where said, a 2h next response. Monday is 2026-03-02.
"""

from datetime import timedelta

import pytest

from sla.breach import is_near_miss
from sla.causes import CauseKind, handoffs
from sla.events import ClockEvent, EventKind
from sla.ledger import explain
from sla.policy import Policy
from sla.responders import ActorEvent
from sla.targets import Metric, Priority
from tests.sla.test_ledger import CALENDARS, NEXT, at, office_policy

H = timedelta(hours=1)
M = timedelta(minutes=1)
CREATED, RESPONDED, RESOLVED = EventKind.CREATED, EventKind.RESPONDED, EventKind.RESOLVED
PAUSED, RESUMED, REOPENED = EventKind.PAUSED, EventKind.RESUMED, EventKind.REOPENED


def cause_of(events, metric, now, policy=None, handed_over=()):
    ledger = explain([ClockEvent(*e) for e in events], policy or office_policy(), now,
                     handed_over=handed_over)
    return next(m for m in ledger.metrics if m.metric is metric).cause, ledger


def test_a_raised_priority_is_the_cause_of_the_breach_it_made():
    cause, _ = cause_of([(CREATED, at(0, "09:00"), Priority.P3),
                         (EventKind.PRIORITY_CHANGED, at(0, "09:40"), Priority.P1),
                         (RESPONDED, at(0, "10:00"))], Metric.FIRST_RESPONSE, at(0, "11:00"))
    assert cause.kind is CauseKind.PRIORITY
    assert cause.phrase == "priority changed to P1 mid-way"


@pytest.mark.parametrize(("reopens", "phrase"), [(1, "reopened"), (2, "reopened 2 times")])
def test_a_reopened_ticket_breaches_its_resolution_because_it_was_reopened(reopens, phrase):
    # P1 resolution 4h: resolved after 3h, reopened; 1h more for each reopen.
    events = [(CREATED, at(0, "09:00"), Priority.P1), (RESPONDED, at(0, "09:05")),
              (RESOLVED, at(0, "12:00"))]
    for n in range(reopens):
        events += [(REOPENED, at(0, f"{13 + 2 * n}:00")), (RESOLVED, at(0, f"{14 + 2 * n}:30"))]
    cause, ledger = cause_of(events, Metric.RESOLUTION, at(1, "12:00"))
    assert cause.phrase == phrase
    assert f"reopened {reopens} time" in ledger.verdict
    first, _ = cause_of(events, Metric.FIRST_RESPONSE, at(1, "12:00"))
    assert first is None  # met in 5 minutes: no breach, no cause


def test_a_handoff_while_the_clock_ran_is_the_cause():
    history = [ActorEvent("assigned", at(0, "09:10"), "UA", "UA"),
               ActorEvent("assigned", at(0, "09:30"), "UA", "UB")]
    cause, ledger = cause_of([(CREATED, at(0, "09:00"), Priority.P2), (RESPONDED, at(0, "10:30"))],
                             Metric.FIRST_RESPONSE, at(0, "11:00"), handed_over=handoffs(history))
    assert cause.phrase == "reassigned"
    assert "reassigned 1 time" in ledger.verdict


def test_handoffs_count_changes_of_person_not_assignments():
    history = [
        ActorEvent("assigned", at(0, "09:10"), "UA", None),  # took it: UA
        ActorEvent("assigned", at(0, "09:20"), "UA", ""),  # unassigned
        ActorEvent("assigned", at(0, "09:30"), "UA", "UA"),  # back to UA: no handoff
        ActorEvent("assigned", at(0, "09:40"), "UA", "UB"),
        ActorEvent("note", at(0, "09:45"), "UB", "looking"),
        ActorEvent("assigned", at(0, "09:50"), "UB", "UA"),
    ]
    assert handoffs(history) == (at(0, "09:40"), at(0, "09:50"))
    assert handoffs(history[:3]) == ()


def test_a_request_that_arrived_out_of_hours_waited_for_a_first_responder():
    cause, ledger = cause_of([(CREATED, at(0, "07:00"), Priority.P2), (RESPONDED, at(0, "10:30"))],
                             Metric.FIRST_RESPONSE, at(0, "11:00"))
    assert cause.phrase == "waited for a first responder out of hours"
    assert cause.at == at(0, "09:00")
    assert "it arrived out of hours and the clock started Mon 02 Mar 09:00" in ledger.verdict


def test_a_follow_up_sent_at_night_waited_for_an_answer_out_of_hours():
    policy = Policy(CALENDARS[0], NEXT)
    cause, _ = cause_of([(CREATED, at(0, "09:00"), Priority.P2), (RESPONDED, at(0, "09:10")),
                         (EventKind.REQUESTER_REPLIED, at(0, "18:00")),
                         (RESPONDED, at(1, "11:30"))],
                        Metric.NEXT_RESPONSE, at(1, "12:00"), policy=policy)
    assert cause.phrase == "waited for an answer out of hours"


def test_a_ticket_paused_longer_than_worked():
    # 10m, then paused 2h50m, then 1h more: 1h10m counted against 1h, 2h50m held.
    cause, ledger = cause_of([(CREATED, at(0, "09:00"), Priority.P2), (PAUSED, at(0, "09:10")),
                              (RESUMED, at(0, "12:00")), (RESPONDED, at(0, "13:00"))],
                             Metric.FIRST_RESPONSE, at(0, "14:00"))
    assert cause.phrase == "paused longer than worked"
    assert cause.held == 2 * H + 50 * M
    assert "paused longer (2h 50m) than worked" in ledger.verdict


def test_a_request_nobody_answered_yet_is_still_not_answered():
    cause, _ = cause_of([(CREATED, at(0, "09:00"), Priority.P2)], Metric.FIRST_RESPONSE,
                        at(0, "11:00"))
    assert cause.phrase == "still not answered"
    cause, _ = cause_of([(CREATED, at(0, "09:00"), Priority.P1), (RESPONDED, at(0, "09:05"))],
                        Metric.RESOLUTION, at(0, "14:00"))
    assert cause.phrase == "still open"


def test_with_nothing_else_to_blame_the_time_ran_out_in_business_hours():
    events = [(CREATED, at(0, "09:00"), Priority.P1), (RESPONDED, at(0, "09:30")),
              (RESOLVED, at(0, "14:00"))]
    first, ledger = cause_of(events, Metric.FIRST_RESPONSE, at(0, "15:00"))
    resolution, _ = cause_of(events, Metric.RESOLUTION, at(0, "15:00"))
    assert (first.kind, first.phrase) == (CauseKind.LATE, "answered late in business hours")
    assert resolution.phrase == "resolved late in business hours"
    # The explain verdict names no cause it cannot show.
    assert ledger.verdict.endswith("(1h over).")


def test_the_first_cause_in_rule_order_wins_and_the_verdict_lists_them_all():
    # Reopened and paused longer than worked: reopened comes first.
    events = [(CREATED, at(0, "09:00"), Priority.P1), (RESPONDED, at(0, "09:05")),
              (PAUSED, at(0, "09:30")), (RESUMED, at(1, "09:00")), (RESOLVED, at(1, "12:00")),
              (REOPENED, at(1, "12:30")), (RESOLVED, at(1, "14:00"))]
    cause, ledger = cause_of(events, Metric.RESOLUTION, at(1, "15:00"))
    assert cause.phrase == "reopened"
    # Held: paused 7h30m of business time plus the 30m spent resolved; counted 5h.
    assert "reopened 1 time; paused longer (8h) than worked" in ledger.verdict


@pytest.mark.parametrize(("elapsed", "near"), [
    (54 * M, False),  # 6m of 60m left: 10% exactly is no near miss
    (54 * M + timedelta(seconds=1), True),
    (60 * M, True),  # met exactly on target
    (60 * M + timedelta(seconds=1), False),  # breached
    (10 * M, False),
])
def test_near_miss_is_met_with_under_a_tenth_of_the_target_left(elapsed, near):
    assert is_near_miss(elapsed, H) is near
