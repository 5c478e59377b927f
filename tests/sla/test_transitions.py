"""Which move a ticket may make from its clock's state, and the priority rules."""

from datetime import UTC, datetime, timedelta

import pytest

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority
from sla.transitions import (
    REOPEN_WINDOW,
    InvalidTransition,
    LoweringRefused,
    Move,
    by_hand,
    change_priority,
    detect_priority,
    is_less_urgent,
    requester_reply,
    team_response,
)

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = Policy.default(BusinessCalendar.always())
WITH_NEXT_RESPONSE = POLICY.with_target(Priority.P3, Metric.NEXT_RESPONSE, timedelta(hours=1))


def clock(*kinds: EventKind, policy: Policy = POLICY, priority: Priority = Priority.P3):
    """The clock after CREATED at Monday 10:00 and then `kinds`, a minute apart."""
    events = [ClockEvent(EventKind.CREATED, MONDAY_10, priority)]
    events += [ClockEvent(kind, MONDAY_10 + timedelta(minutes=n)) for n, kind in
               enumerate(kinds, start=1)]
    return compute_clock(events, policy, MONDAY_10 + timedelta(hours=1))


OPEN, PAUSED, RESOLVED = clock(), clock(EventKind.PAUSED), clock(EventKind.RESOLVED)


@pytest.mark.parametrize(
    ("kind", "state", "refusal"),
    [
        (EventKind.PAUSED, RESOLVED, "SLA-7 is resolved; reopen it before pausing."),
        (EventKind.PAUSED, PAUSED, "SLA-7 is already paused."),
        (EventKind.RESUMED, OPEN, "SLA-7 is not paused."),
        (EventKind.RESUMED, RESOLVED, "SLA-7 is not paused."),
        (EventKind.RESOLVED, RESOLVED, "SLA-7 is already resolved."),
        (EventKind.REOPENED, OPEN, "SLA-7 is not resolved."),
        (EventKind.REOPENED, PAUSED, "SLA-7 is not resolved."),
    ],
)
def test_a_move_its_state_refuses_says_why(kind, state, refusal):
    with pytest.raises(InvalidTransition) as refused:
        by_hand(kind, "SLA-7", state)
    assert str(refused.value) == refusal


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (EventKind.PAUSED, OPEN),
        (EventKind.RESUMED, PAUSED),
        (EventKind.RESOLVED, OPEN),
        (EventKind.RESOLVED, PAUSED),  # resolving ends the pause
        (EventKind.REOPENED, RESOLVED),
    ],
)
def test_an_allowed_move_is_its_event_with_the_reason(kind, state):
    assert by_hand(kind, "SLA-7", state, reason="waiting on the vendor") == Move(
        kind, note="waiting on the vendor")


def test_a_quiet_resolve_of_a_resolved_ticket_is_nothing_to_do():
    assert by_hand(EventKind.RESOLVED, "SLA-7", RESOLVED, quiet=True) is None


def test_the_requester_may_raise_their_own_priority_but_not_lower_it():
    assert change_priority("SLA-7", OPEN, Priority.P1, by_requester=True) == Move(
        EventKind.PRIORITY_CHANGED, priority=Priority.P1)
    with pytest.raises(LoweringRefused, match="only the team can lower it, so SLA-7 stays P3"):
        change_priority("SLA-7", OPEN, Priority.P4, by_requester=True)
    assert change_priority("SLA-7", OPEN, Priority.P4, by_requester=False) == Move(
        EventKind.PRIORITY_CHANGED, priority=Priority.P4)


def test_priority_of_a_resolved_ticket_stays_and_the_same_priority_changes_nothing():
    with pytest.raises(InvalidTransition, match="SLA-7 is resolved; reopen it to change"):
        change_priority("SLA-7", RESOLVED, Priority.P1, by_requester=False)
    assert change_priority("SLA-7", OPEN, Priority.P3, by_requester=False) is None


def test_a_team_reply_stops_first_response_once():
    assert team_response(OPEN) == Move(EventKind.RESPONDED)
    assert team_response(clock(EventKind.RESPONDED)) is None
    assert team_response(RESOLVED) is None


def test_a_requester_reply_after_a_team_reply_starts_next_response_when_measured():
    answered = clock(EventKind.RESPONDED, policy=WITH_NEXT_RESPONSE)
    now = MONDAY_10 + timedelta(hours=1)
    assert requester_reply(answered, WITH_NEXT_RESPONSE, resolved_at=None, now=now) == Move(
        EventKind.REQUESTER_REPLIED)
    assert requester_reply(clock(EventKind.RESPONDED), POLICY, resolved_at=None,
                           now=now) is None
    assert requester_reply(OPEN, WITH_NEXT_RESPONSE, resolved_at=None, now=now) is None


def test_a_requester_reply_reopens_a_ticket_resolved_within_the_window():
    resolved_at = MONDAY_10 + timedelta(minutes=1)
    within = resolved_at + REOPEN_WINDOW
    assert requester_reply(RESOLVED, POLICY, resolved_at=resolved_at, now=within) == Move(
        EventKind.REOPENED, note="requester replied")
    later = within + timedelta(seconds=1)
    assert requester_reply(RESOLVED, POLICY, resolved_at=resolved_at, now=later) is None


def test_p4_is_less_urgent_than_p1():
    assert is_less_urgent(Priority.P4, Priority.P1)
    assert not is_less_urgent(Priority.P1, Priority.P4)
    assert not is_less_urgent(Priority.P2, Priority.P2)


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("checkout outage", Priority.P3, Priority.P1),
        ("URGENT please", Priority.P3, Priority.P2),
        ("sev1 in prod", Priority.P4, Priority.P1),
        (":rotating_light: db down", Priority.P3, Priority.P1),
        ("this is p4 at most", Priority.P3, Priority.P3),
        ("urgent", Priority.P1, Priority.P1),  # words never lower a priority
        ("see pages p10 and p12", Priority.P3, Priority.P3),
        ("question about invoices", Priority.P3, Priority.P3),
    ],
)
def test_priority_words_only_raise(text, default, expected):
    assert detect_priority(text, default) == expected
