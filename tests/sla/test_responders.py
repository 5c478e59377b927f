"""Who answers: first responses, their median, resolutions and breaches while assigned."""

from datetime import UTC, datetime, timedelta

from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.responders import ActorEvent, ResponderTicket, responder_rows
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
