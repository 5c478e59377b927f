"""`/sla` ticket verbs end to end: list, ticket, moves, priority, status, and privacy.

The clock starts Monday 2026-11-23 10:00 UTC; the stock policy runs Mon-Fri 09:00-17:00 UTC,
so a P3 ticket opened then owes its first response at 14:00 the same day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import ADMIN, AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, open_desk, tickets

OTHER = "C0OTHER"


@pytest.fixture
def desk(bot):
    """The support channel tracked, with two fresh P3 tickets from the requester."""
    return open_desk(bot)


def by_key(bot) -> dict:
    return {t.key: t for t in tickets(bot)}


def reply_in_thread(bot, key: str, user: str = AGENT) -> None:
    bot.slack.message("Looking into it", user=user, thread_ts=bot.roots[key])
    bot.settle()


# -- list -------------------------------------------------------------------------------------


def test_list_shows_open_tickets_with_their_next_due_time(desk):
    answer = ask(desk, "list", user=REQUESTER)
    assert answer.private
    assert "Open tickets" in answer.everything and "(2)" in answer.everything
    assert "SLA-1" in answer.text and "SLA-2" in answer.text
    assert "first response due in 4 h" in answer.text
    assert "Invoices page is blank" in answer.text


def test_list_public_is_shown_in_channel(desk):
    assert ask(desk, "list public").response_type == "in_channel"


def test_list_of_an_empty_channel_says_so(bot):
    answer = ask(bot, "list")
    assert "No open tickets in <#C0SUPPORT>" in answer.text


def test_list_at_risk_and_breached_follow_the_clock(desk):
    ask(desk, "priority SLA-2 P4")  # 8h first response: far from risk today
    desk.clock.advance(timedelta(hours=3, minutes=30))  # 13:30, 87% of SLA-1's 4h
    at_risk = ask(desk, "list at-risk")
    assert "SLA-1" in at_risk.text and "SLA-2" not in at_risk.text
    assert "Nothing past its SLA" in ask(desk, "list breached").text

    desk.clock.advance(timedelta(hours=1))  # 14:30: SLA-1's first response is overdue
    breached = ask(desk, "list breached")
    assert "SLA-1" in breached.text and "SLA-2" not in breached.text
    assert "overdue by 30 min" in breached.text
    assert "SLA-1" not in ask(desk, "list at-risk").text


def test_list_mine_shows_what_i_asked_for_or_am_assigned(desk):
    reply_in_thread(desk, "SLA-1", user=AGENT)  # the first responder becomes the assignee
    mine = ask(desk, "list mine", user=AGENT)
    assert "SLA-1" in mine.text and "SLA-2" not in mine.text
    requested = ask(desk, "list mine", user=REQUESTER)
    assert "SLA-1" in requested.text and "SLA-2" in requested.text
    assert "You have no open tickets" in ask(desk, "list mine", user=ADMIN).text


def test_list_with_unknown_filter_shows_usage(desk):
    answer = ask(desk, "list closed")
    assert "open, at-risk, breached, mine" in answer.text
    assert "/sla list [open|at-risk|breached|mine]" in answer.text


# -- ticket -----------------------------------------------------------------------------------


def test_ticket_shows_its_card_with_due_times(desk):
    answer = ask(desk, "ticket sla-1", user=REQUESTER)
    assert answer.private
    text = answer.everything
    assert "SLA-1" in text and "First response" in text and "Resolution" in text
    assert "Invoices page is blank" in text


def test_reader_without_a_slack_time_zone_reads_the_channels_zone(desk):
    ask(desk, "hours Mon-Fri 09:00-17:00 tz=America/New_York")
    # users.info does not know this reader, so the channel's zone is the best guess (not UTC).
    for command in ("ticket SLA-1", "priority SLA-1 P2"):
        answer = ask(desk, command, user="UNOTZREADER")
        assert "New York" in answer.everything and "UTC" not in answer.everything


def test_ticket_shows_its_history_with_reasons(desk):
    ask(desk, "pause SLA-1 waiting for the vendor", user=AGENT)
    text = ask(desk, "ticket SLA-1", user=REQUESTER).everything
    assert "opened" in text
    assert "paused by <@UAGENT>: waiting for the vendor" in text


@pytest.mark.parametrize(
    ("command", "complaint"),
    [("ticket", "which ticket"), ("ticket INC-4", "not a ticket key"),
     ("ticket SLA-99", "There is no ticket SLA-99 in <#C0SUPPORT>")],
)
def test_ticket_bad_input(desk, command, complaint):
    answer = ask(desk, command)
    assert answer.private
    assert complaint in answer.text


# -- moves ------------------------------------------------------------------------------------


def test_pause_resume_resolve_reopen_move_the_ticket_and_update_its_card(desk):
    updates = len(desk.fake.calls("chat.update"))
    paused = ask(desk, "pause SLA-1 waiting for the customer", user=AGENT)
    assert "SLA-1 is paused" in paused.text and "waiting for the customer" in paused.text
    assert by_key(desk)["SLA-1"].status == "paused"
    assert by_key(desk)["SLA-1"].first_response_due_at is None  # no clock runs

    desk.clock.advance(timedelta(hours=2))
    resumed = ask(desk, "resume SLA-1", user=AGENT)
    assert "running again" in resumed.text
    ticket = by_key(desk)["SLA-1"]
    assert ticket.status == "open"
    # Two paused hours do not count: due 16:00 instead of 14:00.
    assert ticket.first_response_due_at.hour == 16

    resolved = ask(desk, "resolve SLA-1 fixed the cache", user=AGENT)
    assert "SLA-1 is resolved (fixed the cache)" in resolved.text
    assert by_key(desk)["SLA-1"].status == "resolved"
    reopened = ask(desk, "reopen SLA-1", user=REQUESTER)
    assert "open again" in reopened.text
    assert by_key(desk)["SLA-1"].status == "open"
    assert len(desk.fake.calls("chat.update")) >= updates + 4
    assert by_key(desk)["SLA-2"].status == "open"  # untouched


@pytest.mark.parametrize(
    ("setup", "command", "complaint"),
    [
        (None, "resume SLA-1", "not paused"),
        ("pause SLA-1", "pause SLA-1", "already paused"),
        ("resolve SLA-1", "resolve SLA-1", "already resolved"),
        (None, "reopen SLA-1", "not resolved"),
    ],
)
def test_moves_that_make_no_sense_now_are_explained_privately(desk, setup, command, complaint):
    if setup:
        ask(desk, setup)
    answer = ask(desk, f"{command} public")
    assert answer.private
    assert complaint in answer.text


@pytest.mark.parametrize("command", ["resolve", "pause SLA", "reopen 0", "resume INC-1"])
def test_moves_with_a_bad_key_show_usage(desk, command):
    answer = ask(desk, command)
    assert answer.private
    assert "SLA-42" in answer.text  # the usage shows the right form
    assert {t.status for t in tickets(desk)} == {"open"}


def test_priority_changes_targets_of_running_clocks(desk):
    answer = ask(desk, "priority SLA-2 p1", user=AGENT)
    assert "SLA-2 is now P1" in answer.text
    ticket = by_key(desk)["SLA-2"]
    assert ticket.priority == "P1"
    # P1 owes a first response in 15 minutes of business time.
    assert (ticket.first_response_due_at - ticket.created_at) == timedelta(minutes=15)
    assert "already P1" in ask(desk, "priority SLA-2 P1").text


def test_requester_may_raise_but_not_lower_their_own_ticket_by_verb(desk):
    assert "SLA-2 is now P2" in ask(desk, "priority SLA-2 P2", user=REQUESTER).text
    refusal = ask(desk, "priority SLA-2 P4", user=REQUESTER)
    assert "only the team can lower" in refusal.text
    assert by_key(desk)["SLA-2"].priority == "P2"
    assert "SLA-2 is now P4" in ask(desk, "priority SLA-2 P4", user=AGENT).text


@pytest.mark.parametrize(
    ("command", "complaint"),
    [("priority SLA-2", "new priority"), ("priority SLA-2 P0", "not a priority"),
     ("priority P1 SLA-2", "not a ticket key")],
)
def test_priority_bad_input_changes_nothing(desk, command, complaint):
    answer = ask(desk, command)
    assert complaint in answer.text
    assert "/sla priority SLA-42 P1" in answer.text
    assert by_key(desk)["SLA-2"].priority == "P3"


# -- status -----------------------------------------------------------------------------------


def test_status_sums_up_this_channel(desk):
    desk.clock.advance(timedelta(minutes=30))
    reply_in_thread(desk, "SLA-1")  # first response after 30 min: met
    desk.clock.advance(timedelta(minutes=30))
    ask(desk, "resolve SLA-1")  # resolved after 1 h: met
    desk.clock.advance(timedelta(hours=4))  # 15:00: SLA-2 waited 5 h for a 4 h target
    answer = ask(desk, "status", user=REQUESTER)
    assert answer.private
    text = answer.everything
    assert "SLA status for <#C0SUPPORT>" in text and "last 7 days" in text
    assert "1 open" in text and "0 at risk" in text and "1 breached now" in text
    assert "*First response*: 50% met (1 of 2)" in text
    assert "median 30m" in text
    assert "*Resolution*: 100% met (1 of 1)" in text


@pytest.mark.parametrize("period", ["30d", "90d"])
def test_status_over_longer_periods(desk, period):
    answer = ask(desk, f"status {period}")
    assert f"last {period[:-1]} days" in answer.text
    assert "2 open" in answer.text


def test_status_bad_period_shows_usage(desk):
    answer = ask(desk, "status 14d")
    assert "7d, 30d or 90d" in answer.text
    assert "/sla status [7d|30d|90d] [all]" in answer.text


def test_status_all_is_for_admins_and_covers_the_workspace(desk):
    desk.fake.add_channel(OTHER, name="other", members=[REQUESTER])
    ask(desk, "track", channel=OTHER)
    desk.slack.message("other channel request", channel=OTHER)
    desk.settle()
    refused = ask(desk, "status all", user=AGENT)
    assert "only workspace admins" in refused.text
    answer = ask(desk, "status all 30d", user=ADMIN)
    assert "the whole workspace" in answer.text and "3 open" in answer.text


# -- privacy ----------------------------------------------------------------------------------


def test_a_channel_never_sees_another_channels_tickets(desk):
    desk.fake.add_channel(OTHER, name="other", members=[AGENT])
    elsewhere = {"channel": OTHER, "user": AGENT}

    assert "No open tickets in <#C0OTHER>" in ask(desk, "list", **elsewhere).text
    assert "SLA-1" not in ask(desk, "list breached", **elsewhere).everything
    status = ask(desk, "status", **elsewhere)
    assert "0 open" in status.text and "SLA-" not in status.everything
    for command in ("ticket SLA-1", "resolve SLA-1", "pause SLA-1", "priority SLA-1 P1"):
        answer = ask(desk, command, **elsewhere)
        assert "There is no ticket SLA-1 in <#C0OTHER>" in answer.text
        assert "Invoices" not in answer.everything
    ticket = by_key(desk)["SLA-1"]
    assert (ticket.status, ticket.priority) == ("open", "P3")
