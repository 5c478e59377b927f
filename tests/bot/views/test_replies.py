"""Specification of the `/sla` Block Kit renderers: what people read in Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.views.policy import nudges_text, render_policy, targets_table
from bot.views.replies import render
from bot.views.status import percent_text, render_status, trend_text
from bot.views.tickets import MAX_HISTORY, MAX_LIST_LINES, render_ticket_detail, render_ticket_list
from commands.assign import TicketAssigned
from commands.policy_verbs import ChannelSettings
from commands.status import OpenCounts
from commands.tickets import HistoryEntry, ListFilter
from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.compliance import MetricOutcome, summarize
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import Metric, Priority
from storage.models import Ticket

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday noon
WEEK_AGO = NOW - timedelta(days=7)


def outcome(key: str, metric: Metric, minutes: int, target: int, *, stopped: bool = True,
            started: datetime | None = None) -> MetricOutcome:
    started = started or NOW - timedelta(days=2)
    elapsed = timedelta(minutes=minutes)
    return MetricOutcome(
        ticket_key=key, channel="C1", priority=Priority.P3, assignee=None, metric=metric,
        target=timedelta(minutes=target), started_at=started,
        stopped_at=started + elapsed if stopped else None, elapsed=elapsed,
        breached=minutes > target, due_at=None if stopped else started + timedelta(minutes=target),
    )


def ticket(number: int, **kw) -> Ticket:
    values = {
        "workspace_id": 1, "number": number, "key": f"SLA-{number}", "channel_id": "C1",
        "message_ts": f"{number}.0", "thread_ts": f"{number}.0", "requester_id": "UREQ",
        "priority": "P3", "status": "open", "title": f"Request number {number}",
        "text": f"Request number {number}", "created_at": NOW - timedelta(hours=1),
    }
    values.update(kw)
    return Ticket(**values)


# -- small formats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"), [(None, "—"), (100.0, "100%"), (50.0, "50%"), (200 / 3, "66.7%")]
)
def test_percent_text(value, text):
    assert percent_text(value) == text


@pytest.mark.parametrize(
    ("points", "text"),
    [(None, ""), (4.0, " ▲ 4 pts"), (-12.54, " ▼ 12.5 pts"), (0.01, " ▶ no change")],
)
def test_trend_is_an_arrow_with_points(points, text):
    assert trend_text(points) == text


# -- status -----------------------------------------------------------------------------------


def test_status_shows_counts_met_percent_percentiles_and_scope():
    summary = summarize(
        [
            outcome("SLA-1", Metric.FIRST_RESPONSE, 10, 60),
            outcome("SLA-2", Metric.FIRST_RESPONSE, 90, 60),
            outcome("SLA-1", Metric.RESOLUTION, 120, 480),
        ],
        WEEK_AGO, NOW, NOW,
    )
    reply = render_status(summary, OpenCounts(open=3, at_risk=1, breached=2), channel_id="C1",
                          days=7)
    assert "SLA status for <#C1>, last 7 days" in reply.text
    assert "3 open" in reply.text and "1 at risk" in reply.text and "2 breached now" in reply.text
    assert "*First response*: 50% met (1 of 2) · median 10m · p90 1h 30m" in reply.text
    assert "*Resolution*: 100% met (1 of 1) · median 2h · p90 2h" in reply.text
    assert "Next response" not in reply.text
    assert all(len(b["text"]["text"]) <= 3000 for b in reply.blocks if b["type"] == "section")


def test_status_of_the_workspace_and_an_empty_period():
    summary = summarize([], WEEK_AGO, NOW, NOW)
    reply = render_status(summary, OpenCounts(0, 0, 0), channel_id=None, days=30)
    assert "the whole workspace, last 30 days" in reply.text
    assert "*First response*: nothing measured in this period" in reply.text


def test_status_shows_trend_against_the_previous_period():
    earlier = NOW - timedelta(days=9)
    summary = summarize(
        [
            outcome("SLA-1", Metric.FIRST_RESPONSE, 90, 60, started=earlier),
            outcome("SLA-2", Metric.FIRST_RESPONSE, 10, 60),
        ],
        WEEK_AGO, NOW, NOW,
    )
    reply = render_status(summary, OpenCounts(0, 0, 0), channel_id="C1", days=7)
    assert "100% met (1 of 1) ▲ 100 pts" in reply.text


# -- list -------------------------------------------------------------------------------------


def test_list_line_names_the_next_due_metric_in_local_time():
    due = NOW + timedelta(minutes=45)
    reply = render_ticket_list(
        [ticket(4, first_response_due_at=due, resolution_due_at=NOW + timedelta(days=2),
                permalink="https://slack.test/p4", assignee_id="UAG")],
        ListFilter.OPEN, channel_id="C1", tz="Europe/Berlin", now=NOW,
    )
    assert "<https://slack.test/p4|SLA-4>" in reply.text
    assert "first response due in 45 min (13:45 Berlin)" in reply.text
    assert "<@UAG>" in reply.text
    assert "Open tickets in <#C1> (1)" in reply.text


def test_list_line_for_overdue_and_paused_tickets():
    reply = render_ticket_list(
        [ticket(1, resolution_due_at=NOW - timedelta(hours=2)), ticket(2, status="paused")],
        ListFilter.BREACHED, channel_id="C1", tz="UTC", now=NOW,
    )
    assert "resolution overdue by 2 h (10:00 UTC)" in reply.text
    assert "SLA-2* P3 · :double_vertical_bar: paused" in reply.text


def test_list_of_the_workspace_names_each_tickets_channel():
    reply = render_ticket_list([ticket(1)], ListFilter.OPEN, channel_id=None, tz="UTC", now=NOW)
    assert "in <#C1>" in reply.text and "the whole workspace" in reply.text


@pytest.mark.parametrize(
    ("which", "empty"),
    [(ListFilter.OPEN, "No open tickets"), (ListFilter.AT_RISK, "Nothing at risk"),
     (ListFilter.BREACHED, "Nothing past its SLA"), (ListFilter.MINE, "You have no open")],
)
def test_empty_lists_say_so(which, empty):
    reply = render_ticket_list([], which, channel_id="C1", tz="UTC", now=NOW)
    assert reply.text.startswith(empty)


def test_long_lists_are_cut_and_say_how_many_matched():
    many = [ticket(n, title="x" * 70) for n in range(1, 61)]
    reply = render_ticket_list(many, ListFilter.OPEN, channel_id="C1", tz="UTC", now=NOW)
    assert f"SLA-{MAX_LIST_LINES}*" in reply.text
    assert f"SLA-{MAX_LIST_LINES + 1}*" not in reply.text
    assert f"Showing {MAX_LIST_LINES} of 60" in str(reply.blocks)
    assert len(reply.blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in reply.blocks if b["type"] == "section")


# -- ticket detail ----------------------------------------------------------------------------


def test_ticket_detail_is_the_card_with_a_link_to_the_thread():
    created = NOW - timedelta(hours=1)
    clock = compute_clock([ClockEvent(EventKind.CREATED, created, Priority.P3)],
                          Policy.default(), NOW)
    row = ticket(7, created_at=created, permalink="https://slack.test/p7")
    reply = render_ticket_detail(row, clock, "UTC", NOW)
    text = str(reply.blocks)
    assert "SLA-7" in text and "First response" in text
    assert "<https://slack.test/p7|Open the thread>" in text
    assert "opened 11:00 UTC" in text


def test_ticket_detail_shows_who_did_what_and_why():
    created = NOW - timedelta(hours=2)
    clock = compute_clock([ClockEvent(EventKind.CREATED, created, Priority.P3)],
                          Policy.default(), NOW)
    history = [
        HistoryEntry(created, "created", "UREQ"),
        HistoryEntry(created + timedelta(minutes=5), "assigned", "UAG", note="UAG"),
        HistoryEntry(created + timedelta(minutes=10), "priority_changed", "UAG", priority="P1"),
        HistoryEntry(created + timedelta(minutes=20), "paused", "UAG", note="waiting for vendor"),
    ]
    reply = render_ticket_detail(ticket(7, created_at=created), clock, "Europe/Berlin", NOW,
                                 history)
    text = str(reply.blocks)
    assert "11:00 Berlin · opened by <@UREQ>" in text
    assert "assigned to <@UAG> by <@UAG>" in text
    assert "priority set to P1 by <@UAG>" in text
    assert "11:20 Berlin · paused by <@UAG>: waiting for vendor" in text


def test_long_history_shows_the_latest_entries():
    clock = compute_clock([ClockEvent(EventKind.CREATED, NOW, Priority.P3)], Policy.default(),
                          NOW)
    history = [HistoryEntry(NOW, "note", "UAG", note=f"step {n}") for n in range(25)]
    text = str(render_ticket_detail(ticket(7), clock, "UTC", NOW, history).blocks)
    assert f"…{25 - MAX_HISTORY} earlier" in text
    assert "step 24" in text and "step 14" not in text


@pytest.mark.parametrize(
    ("assignee", "changed", "answer"),
    [
        ("UANN", True, ":bust_in_silhouette: SLA-7 is assigned to <@UANN> now; the thread is "
         "told."),
        ("UME", True, ":bust_in_silhouette: SLA-7 is yours now; the thread is told."),
        (None, True, ":bust_in_silhouette: SLA-7 is unassigned now; the thread is told."),
        ("UANN", False, ":information_source: SLA-7 is already assigned to <@UANN>; nothing "
         "changed."),
        ("UME", False, ":information_source: SLA-7 is already yours; nothing changed."),
        (None, False, ":information_source: SLA-7 is not assigned to anyone; nothing changed."),
    ],
)
def test_assign_answers_who_has_the_ticket_now(assignee, changed, answer):
    reply = render(TicketAssigned("SLA-7", assignee, "UME", changed, public=False))
    assert reply.text == answer


# -- policy -----------------------------------------------------------------------------------


def test_targets_table_lists_every_priority():
    table = targets_table(Policy.default().with_target("P2", "next_response", timedelta(hours=2)))
    lines = table.strip("`").splitlines()
    assert lines[0].split() == ["First", "response", "Resolution", "Next", "response"]
    assert lines[1].split() == ["P1", "15m", "4h", "—"]
    assert lines[2].split() == ["P2", "1h", "8h", "2h"]
    assert lines[4].split() == ["P4", "8h", "40h", "—"]


def test_nudges_text_names_audiences_and_reescalation():
    assert nudges_text(Policy.default()) == (
        "50% → thread · 80% → thread, assignee · "
        "breach → thread, escalation channel, managers · no re-escalation"
    )
    policy = Policy.default().with_nudges([0.25], timedelta(hours=2))
    assert nudges_text(policy).endswith("re-escalate every 2h")


def test_policy_shows_hours_targets_escalation_and_tracking():
    calendar = BusinessCalendar.from_country(
        "Europe/Berlin", {d: [("08:00", "16:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        "DE",
    )
    settings = ChannelSettings("C1", True, Priority.P2, ("CLEADS",), ("UMGR",), own_policy=True)
    reply = render_policy(Policy.default(calendar), settings)
    assert "SLA policy for <#C1>* (this channel's own policy)" in reply.text
    assert "Mon-Fri 08:00-16:00 (Europe/Berlin, DE holidays)" in reply.text
    assert "*Escalation*: <#CLEADS>, <@UMGR>" in reply.text
    assert "default priority P2" in reply.text


def test_policy_of_an_unconfigured_channel_explains_the_defaults():
    settings = ChannelSettings("C1", False, None, (), (), own_policy=False)
    reply = render_policy(Policy.default(), settings)
    assert "(the workspace default)" in reply.text
    assert "only the thread" in reply.text and "/sla escalate" in reply.text
    assert "*Tracking*: off" in reply.text
