"""Who answers: first responses, their median, resolutions and breaches while assigned."""

from datetime import UTC, datetime, timedelta

from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.responders import (
    ActorEvent,
    ContributionKind,
    ResponderTicket,
    contributions,
    responder_rows,
)
from sla.targets import Priority

POLICY = Policy.default()  # Mon-Fri 09:00-17:00 UTC; P2 first response 1h
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
START, END, NOW = MONDAY - timedelta(days=1), MONDAY + timedelta(days=7), MONDAY + timedelta(days=7)


def at(hhmm: str, days: int = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return MONDAY + timedelta(days=days, hours=hour, minutes=minute)


def ticket(key: str, *steps: tuple[str, str, str | None, str | None]) -> ResponderTicket:
    """Steps of (kind, HH:MM, actor, note); a CREATED at 09:00 by the requester comes first."""
    actors = [ActorEvent("created", at("09:00"), "UREQ")]
    actors += [ActorEvent(kind, at(when), actor, note) for kind, when, actor, note in steps]
    events = [ClockEvent(EventKind.CREATED, at("09:00"), Priority.P2)]
    events += [ClockEvent(EventKind(a.kind), a.at) for a in actors[1:] if a.kind != "assigned"]
    return ResponderTicket(key, tuple(events), tuple(actors))


def rows():
    tickets = [
        ticket("SLA-1", ("assigned", "09:05", "UBOSS", "UANN"),
               ("responded", "09:30", "UANN", None), ("resolved", "12:00", "UBO", None)),
        ticket("SLA-2", ("assigned", "09:01", "UBOSS", "UBO"),
               ("responded", "11:00", "UBO", None), ("resolved", "12:00", "UBO", None)),
        ticket("SLA-3", ("resolved", "09:10", "UANN", None)),
        ticket("SLA-4", ("responded", "09:20", "UANN", None), ("resolved", "10:00", "UANN", None),
               ("reopened", "10:30", "UREQ", None), ("resolved", "11:00", "UANN", None),
               ("resolved", "11:05", "UBO", None)),
    ]
    return {r.user_id: r for r in responder_rows(((t, POLICY) for t in tickets), START, END, NOW)}


def test_first_responses_are_credited_to_who_stopped_the_clock_with_their_median():
    found = rows()
    assert found["UANN"].first_responses == 2  # SLA-1 after 30m, SLA-4 after 20m
    assert found["UANN"].median_first_response == timedelta(minutes=20)
    assert found["UBO"].first_responses == 1
    assert found["UBO"].median_first_response == timedelta(hours=2)


def test_resolutions_count_each_time_a_ticket_was_resolved_not_repeated_clicks():
    found = rows()
    assert found["UANN"].resolutions == 3  # SLA-3, and SLA-4 twice (reopened in between)
    assert found["UBO"].resolutions == 2  # SLA-1, SLA-2; the extra click on SLA-4 is ignored


def test_a_breach_is_charged_to_whoever_was_assigned_when_it_happened():
    found = rows()
    assert found["UBO"].breaches_assigned == 1  # SLA-2 first response due 10:00, Bo's since 09:01
    assert found["UANN"].breaches_assigned == 0
    assert "UREQ" not in found and "UBOSS" not in found


def test_nothing_outside_the_period_counts():
    tickets = [ticket("SLA-1", ("responded", "09:30", "UANN", None))]
    later = responder_rows(((t, POLICY) for t in tickets), at("00:00", 3), END, NOW)
    assert later == []


def test_a_running_metric_is_charged_at_its_due_instant_even_ahead():
    """Assigned to Ann, nobody answers: the first response (P2: 1 business hour) falls due
    at 10:00 and the resolution (8h) at 17:00; both charged to Ann whatever the instant the
    history is looked at from, and counted only once their instant has passed."""
    [t] = [ticket("SLA-1", ("assigned", "09:05", "UBOSS", "UANN"))]
    found = contributions(t.events, t.actors, POLICY)
    assert [(c.kind, c.at, c.user_id) for c in found] == [
        (ContributionKind.BREACH, at("10:00"), "UANN"),
        (ContributionKind.BREACH, at("17:00"), "UANN")]
    seen = {now: responder_rows([(t, POLICY)], START, END, now) for now in (
        at("09:59"), at("10:00"), at("17:00"))}
    assert seen[at("09:59")] == []
    assert seen[at("10:00")][0].breaches_assigned == 1
    assert seen[at("17:00")][0].breaches_assigned == 2


def test_whoever_has_the_ticket_at_the_due_instant_is_charged():
    t = ticket("SLA-1", ("assigned", "09:05", "UBOSS", "UANN"),
               ("assigned", "09:50", "UBOSS", "UBO"), ("assigned", "10:30", "UBOSS", "UANN"),
               ("responded", "11:00", "UANN", None), ("resolved", "12:00", "UANN", None))
    found = contributions(t.events, t.actors, POLICY)
    assert [(c.kind, c.at, c.user_id, c.elapsed) for c in found] == [
        (ContributionKind.FIRST_RESPONSE, at("11:00"), "UANN", timedelta(hours=2)),
        (ContributionKind.RESOLUTION, at("12:00"), "UANN", timedelta(0)),
        (ContributionKind.BREACH, at("10:00"), "UBO", timedelta(0))]


def test_a_paused_metric_is_charged_only_if_it_breached_before_the_pause():
    early = ticket("SLA-1", ("assigned", "09:05", "UBOSS", "UANN"),
                   ("paused", "09:30", "UANN", None))
    late = ticket("SLA-2", ("assigned", "09:05", "UBOSS", "UANN"),
                  ("paused", "10:30", "UANN", None))
    assert contributions(early.events, early.actors, POLICY) == []
    assert [(c.kind, c.at) for c in contributions(late.events, late.actors, POLICY)] == [
        (ContributionKind.BREACH, at("10:00"))]
