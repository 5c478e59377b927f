"""Ticket card and App Home: what people read, in their own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.views.card import render_ticket_card
from bot.views.formats import local_time, relative
from bot.views.home import render_home
from commands.home import HomeItem
from commands.ids import Action
from sla.clock import compute_clock
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Priority

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    key: str = "SLA-42"
    priority: str = "P2"
    status: str = "open"
    requester_id: str = "UREQ"
    assignee_id: str | None = None
    text: str = "Checkout is down for EU customers"
    channel_id: str = "C1"


def clock_at(now, *extra, priority=Priority.P2):
    events = [ClockEvent(EventKind.CREATED, MONDAY_9, priority), *extra]
    return compute_clock(events, Policy.default(), now)


def text_of(blocks) -> str:
    return str(blocks)


def buttons(blocks) -> list[str]:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return [e["action_id"] for e in actions["elements"]]


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=10), "3 h 10 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=4), "2 days 4 h"),
    ],
)
def test_relative_times_read_like_speech(delta, words):
    assert relative(delta) == words


def test_local_time_names_the_place_and_the_day_when_not_today():
    now = MONDAY_9
    assert local_time(MONDAY_9 + timedelta(minutes=90), "Europe/Berlin", now) == "11:30 Berlin"
    assert local_time(MONDAY_9 + timedelta(days=1), "America/New_York", now) == "Tue 04:00 New York"
    assert local_time(MONDAY_9 + timedelta(days=9), "UTC", now) == "2 Dec 09:00 UTC"


def test_card_shows_key_priority_and_due_in_requester_terms():
    now = MONDAY_9 + timedelta(minutes=15)
    blocks = render_ticket_card(Row(), clock_at(now), "Europe/Berlin", now)
    text = text_of(blocks)
    assert "*SLA-42* · P2 · Open" in text
    # P2 first response is 1 business hour: due 10:00 UTC = 11:00 Berlin, 45 minutes from now.
    assert "in 45 min, 11:00 Berlin" in text
    assert "Checkout is down" in text
    assert buttons(blocks) == [
        Action.PRIORITY_P1, Action.PRIORITY_P2, Action.PRIORITY_P3, Action.PRIORITY_P4,
        Action.PAUSE, Action.RESOLVE, Action.TAKE, Action.EXPLAIN,
    ]


def test_card_shows_the_assignee_once_someone_has_it():
    now = MONDAY_9
    unassigned = text_of(render_ticket_card(Row(), clock_at(now), "UTC", now))
    assert "Assignee" not in unassigned
    header = render_ticket_card(Row(assignee_id="U0ANN"), clock_at(now), "UTC", now)[0]
    assert "Requester <@UREQ> · Assignee <@U0ANN>" in header["text"]["text"]


def test_card_keeps_within_block_kits_25_elements_per_actions_block():
    now = MONDAY_9
    for clock in (clock_at(now), clock_at(now, ClockEvent(EventKind.PAUSED, now))):
        [actions] = [b for b in render_ticket_card(Row(), clock, "UTC", now)
                     if b["type"] == "actions"]
        assert len(actions["elements"]) <= 25


def test_card_marks_the_current_priority_button():
    now = MONDAY_9
    blocks = render_ticket_card(Row(), clock_at(now), "UTC", now)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    styled = [e["action_id"] for e in actions["elements"] if e.get("style") == "primary"]
    assert Action.PRIORITY_P2 in styled and Action.PRIORITY_P1 not in styled


def test_overdue_metric_says_by_how_much():
    now = MONDAY_9 + timedelta(hours=1, minutes=20)
    text = text_of(render_ticket_card(Row(), clock_at(now), "UTC", now))
    assert "overdue by 20 min" in text
    assert "SLA breached" in text


def test_paused_card_offers_resume_and_shows_time_left():
    now = MONDAY_9 + timedelta(minutes=30)
    clock = clock_at(now, ClockEvent(EventKind.PAUSED, MONDAY_9 + timedelta(minutes=10)))
    blocks = render_ticket_card(Row(status="paused"), clock, "UTC", now)
    assert Action.RESUME in buttons(blocks) and Action.PAUSE not in buttons(blocks)
    assert "paused, 50m of business time left" in text_of(blocks)


def test_resolved_card_offers_only_reopen():
    now = MONDAY_9 + timedelta(hours=2)
    clock = clock_at(now, ClockEvent(EventKind.RESPONDED, MONDAY_9 + timedelta(minutes=5)),
                     ClockEvent(EventKind.RESOLVED, MONDAY_9 + timedelta(hours=1)))
    blocks = render_ticket_card(Row(status="resolved"), clock, "UTC", now)
    assert buttons(blocks) == [Action.REOPEN, Action.EXPLAIN]
    assert "met in 5m" in text_of(blocks)


def test_long_message_is_cut_at_a_word():
    now = MONDAY_9
    row = Row(text="word " * 200)
    header = render_ticket_card(row, clock_at(now), "UTC", now)[0]["text"]["text"]
    assert header.endswith("…")
    assert len(header) < 500


def test_home_lists_at_risk_tickets_first():
    now = MONDAY_9 + timedelta(minutes=50)  # 50 of 60 minutes: past 80%
    risky = HomeItem("SLA-1", "P2", "open", "C1", "printer", None, clock_at(now))
    calm = HomeItem("SLA-2", "P4", "open", "C1", "question", "https://x/p1",
                    clock_at(now, priority=Priority.P4))
    view = render_home("UME", [calm, risky], "UTC", now)
    text = text_of(view["blocks"])
    assert view["type"] == "home"
    assert "2 open · 1 at risk" in text
    assert text.index("SLA-1") < text.index("<https://x/p1|SLA-2>")


def test_home_without_tickets_says_so():
    view = render_home("UME", [], "UTC", MONDAY_9)
    assert "Nothing here" in text_of(view["blocks"])


def test_business_durations_on_the_card_are_in_hours_like_the_policy():
    # P3 resolution is 24 business hours (three working days), P4 40: "1d" would read as one day.
    resolved_late = MONDAY_9 + timedelta(days=4)  # Friday 09:00: 32 business hours later
    p3 = clock_at(resolved_late,
                  ClockEvent(EventKind.RESPONDED, MONDAY_9 + timedelta(minutes=5)),
                  ClockEvent(EventKind.RESOLVED, resolved_late), priority=Priority.P3)
    text = text_of(render_ticket_card(Row(priority="P3"), p3, "UTC", resolved_late))
    assert "met in 5m (target 4h)" in text
    assert "missed: took 32h (target 24h)" in text

    paused_at = MONDAY_9 + timedelta(minutes=10)
    p4 = clock_at(paused_at + timedelta(hours=1), ClockEvent(EventKind.PAUSED, paused_at),
                  priority=Priority.P4)
    text = text_of(render_ticket_card(Row(priority="P4"), p4, "UTC", paused_at))
    assert "paused, 39h 50m of business time left" in text
    assert "1d" not in text
