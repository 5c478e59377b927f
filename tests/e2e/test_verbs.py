"""`/sla` help and configuration verbs end to end: signed slash commands in, answers out.

Configuration (track, untrack, policy set/nudges, hours, escalate) is for workspace admins
and SLABOT_ADMINS; everyone else gets a polite no and nothing changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from commands.router import default_router
from sla.policy import Policy
from sla.targets import Audience, Metric, Priority
from tests.e2e.conftest import ADMIN, AGENT, CHANNEL, REQUESTER, build_bot, stop_bot
from tests.e2e.verbs_helpers import ask, channel_row, policy_of, tickets


def test_help_lists_every_verb_privately(bot):
    answer = ask(bot, "help", user=REQUESTER)
    assert answer.private
    for verb in default_router().verbs:
        assert f"/sla {verb.name}" in answer.everything


def test_empty_command_is_help(bot):
    assert "/sla track" in ask(bot, "", user=REQUESTER).text


def test_help_for_one_verb_shows_its_usage(bot):
    answer = ask(bot, "help hours", user=REQUESTER)
    assert "/sla hours Mon-Fri 09:00-17:00 tz=Europe/Berlin [holidays=DE]" in answer.text
    assert "/sla hours 24x7" in answer.text


def test_public_flag_shows_the_answer_to_the_channel(bot):
    assert ask(bot, "help public", user=REQUESTER).response_type == "in_channel"


def test_unknown_verb_points_to_help(bot):
    answer = ask(bot, "dance", user=REQUESTER)
    assert answer.private
    assert "`dance`" in answer.text and "/sla help" in answer.text


# -- track / untrack --------------------------------------------------------------------------


def test_admin_tracks_channel_and_new_messages_become_tickets(bot):
    answer = ask(bot, "track P2")
    assert "Tracking <#C0SUPPORT>" in answer.text and "P2" in answer.text
    row = channel_row(bot)
    assert row.tracking and row.default_priority == "P2"

    bot.slack.message("Checkout page shows a 500")
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.key, ticket.priority) == ("SLA-1", "P2")


def test_untrack_stops_new_tickets(bot):
    ask(bot, "track")
    answer = ask(bot, "untrack")
    assert "Stopped tracking" in answer.text
    bot.slack.message("anyone there?")
    bot.settle()
    assert tickets(bot) == []
    assert "was not tracked" in ask(bot, "untrack").text


def test_track_with_a_bad_priority_shows_usage_and_changes_nothing(bot):
    answer = ask(bot, "track P7")
    assert answer.private
    assert "`P7` is not a priority" in answer.text
    assert "/sla track [P1..P4]" in answer.text
    assert channel_row(bot) is None


@pytest.mark.parametrize(
    "command",
    ["track", "untrack", "policy set P1 resolution=2h", "policy nudges 25%", "hours 24x7",
     "escalate <#C0LEADS|leads>"],
)
def test_non_admin_configuration_is_refused_politely_and_changes_nothing(bot, command):
    before = policy_of(bot)
    answer = ask(bot, command, user=AGENT)
    assert answer.private
    assert "only workspace admins" in answer.text
    assert "Sorry" in answer.text
    row = channel_row(bot)
    assert row is None or (not row.tracking and not row.escalation_channel_ids)
    assert policy_of(bot) == before


def test_slabot_admins_may_configure_without_being_workspace_admins(
    db_url, engine, fake_slack, clock
):
    harness = build_bot(db_url, engine, fake_slack, clock, SLABOT_ADMINS=f"{AGENT},UOTHER")
    try:
        answer = ask(harness, "track", user=AGENT)
        assert "Tracking" in answer.text
        assert channel_row(harness).tracking
        # Still nobody else: the requester is no admin.
        assert "only workspace admins" in ask(harness, "untrack", user=REQUESTER).text
        harness.settle()
    finally:
        stop_bot(harness)


# -- policy -----------------------------------------------------------------------------------


def test_policy_shows_default_targets_hours_nudges_and_escalation(bot):
    answer = ask(bot, "policy", user=REQUESTER)
    assert answer.private
    text = answer.everything
    assert "Mon-Fri 09:00-17:00" in text
    assert "P1" in text and "15m" in text and "4h" in text
    assert "50% → thread" in text and "breach → thread, escalation channel, managers" in text
    assert "only the thread" in text  # no escalation configured yet
    assert "workspace default" in text


def test_policy_set_changes_this_channel_only(bot):
    answer = ask(bot, "policy set P1 first-response=10m resolution=2h next-response=30m")
    assert "P1 targets for <#C0SUPPORT> are now first response 10m, resolution 2h, " \
           "next response 30m" in answer.text
    policy = policy_of(bot)
    assert policy.target(Priority.P1, Metric.FIRST_RESPONSE) == timedelta(minutes=10)
    assert policy.target(Priority.P1, Metric.RESOLUTION) == timedelta(hours=2)
    assert policy.target(Priority.P1, Metric.NEXT_RESPONSE) == timedelta(minutes=30)
    # Other priorities and other channels keep the defaults.
    assert policy.target(Priority.P2, Metric.FIRST_RESPONSE) == timedelta(hours=1)
    assert policy_of(bot, "C0ELSEWHERE") == Policy.default()
    shown = ask(bot, "policy").everything
    assert "10m" in shown and "this channel's own policy" in shown


def test_policy_set_switches_next_response_off(bot):
    ask(bot, "policy set P2 next-response=1h")
    ask(bot, "policy set P2 next-response=off")
    assert policy_of(bot).target(Priority.P2, Metric.NEXT_RESPONSE) is None


@pytest.mark.parametrize(
    ("command", "complaint"),
    [
        ("policy set P1", "at least one target"),
        ("policy set P1 resolution=soon", "resolution"),
        ("policy set P9 resolution=1h", "not a priority"),
        ("policy set P1 speed=1h", "not a target"),
        ("policy nudges 120%", "between 1% and 100%"),
        ("policy nudges", "percentages"),
        ("policy frobnicate", "not a policy action"),
        ("policy credits", "compliance%=credit%"),
        ("policy credits 95%", "not a credit tier"),
        ("policy credits 95%=lots", "credit must be a percentage"),
        ("policy credits 120%=5%", "between 0% and 100%"),
        ("policy credits 95%=10% 90%=5%", "must be at least"),
        ("policy credits 95%=5% 95%=10%", "given twice"),
    ],
)
def test_policy_bad_input_shows_usage_and_changes_nothing(bot, command, complaint):
    answer = ask(bot, command)
    assert answer.private
    assert complaint in answer.text
    assert "Usage" in answer.text and "/sla policy" in answer.text
    assert policy_of(bot) == Policy.default()


def test_policy_nudges_sets_thresholds_and_reescalation(bot):
    answer = ask(bot, "policy nudges 25% 75% re-escalate=2h")
    assert "25% → thread" in answer.text and "re-escalate every 2h" in answer.text
    policy = policy_of(bot)
    assert [rule.fraction for rule in policy.nudges] == [0.25, 0.75, 1.0]
    assert policy.reescalate_every == timedelta(hours=2)
    assert policy.nudge_rule(1.0).audiences == frozenset(
        {Audience.THREAD, Audience.ESCALATION_CHANNEL, Audience.MANAGERS}
    )
    ask(bot, "policy nudges re-escalate=off")
    policy = policy_of(bot)
    assert policy.reescalate_every is None
    assert [rule.fraction for rule in policy.nudges] == [0.25, 0.75, 1.0]


def test_policy_credits_set_show_and_switch_off(bot):
    answer = ask(bot, "policy credits 90%=10% 95%=5%")
    assert "below 95% → 5% credit, below 90% → 10% credit" in answer.text
    assert [(t.below_percent, t.credit_percent) for t in policy_of(bot).credit_tiers] == [
        (95.0, 5.0), (90.0, 10.0)]
    assert "below 95% → 5% credit" in ask(bot, "policy").text
    ask(bot, "policy credits off")
    assert policy_of(bot).credit_tiers == ()
    assert "Service credits* (resolution compliance): none" in ask(bot, "policy").text


def test_only_admins_change_credits(bot):
    refused = ask(bot, "policy credits 95%=5%", user=AGENT)
    assert refused.private and "admin" in refused.text
    assert policy_of(bot).credit_tiers == ()


# -- hours ------------------------------------------------------------------------------------


def test_new_targets_and_hours_apply_to_open_tickets_at_once(bot):
    ask(bot, "track P2")
    bot.slack.message("Checkout page shows a 500")  # Mon 10:00 UTC: P2 resolution 8h
    bot.settle()
    [before] = tickets(bot)
    assert before.resolution_due_at.replace(tzinfo=None) == datetime(2026, 11, 24, 10)

    ask(bot, "policy set P2 resolution=2h")
    [ticket] = tickets(bot)  # /sla list, status and the scheduler read these columns
    assert ticket.resolution_due_at.replace(tzinfo=None) == datetime(2026, 11, 23, 12)
    card = bot.fake.calls("chat.update")[-1]
    assert card.params["ts"] == ticket.card_ts
    assert "13:00 Berlin" in json.dumps(card.json_param("blocks"))  # the requester's zone

    ask(bot, "hours 24x7")
    [ticket] = tickets(bot)
    assert ticket.first_response_due_at.replace(tzinfo=None) == datetime(2026, 11, 23, 11)


def test_hours_sets_schedule_zone_and_country_holidays(bot):
    answer = ask(bot, "hours Mon-Fri 08:00-16:00, Sat 10:00-12:00 tz=Europe/Berlin holidays=DE")
    assert "Europe/Berlin" in answer.text and "DE holidays" in answer.text
    calendar = policy_of(bot).calendar
    assert calendar.tz == "Europe/Berlin"
    assert calendar.hours["mon"] == [("08:00", "16:00")]
    assert calendar.hours["sat"] == [("10:00", "12:00")]
    assert (calendar.country, calendar.subdiv) == ("DE", None)
    # Christmas Day 2026 is a Friday and a German public holiday: closed.
    assert date(2026, 12, 25).weekday() == 4
    christmas = [datetime(2026, 12, 25, h, tzinfo=calendar.zone) for h in (8, 16)]
    assert calendar.elapsed(*christmas) == timedelta(0)


def test_hours_24x7_and_back_keeps_the_zone(bot):
    ask(bot, "hours Mon-Fri 09:00-17:00 tz=America/New_York")
    answer = ask(bot, "hours 24x7")
    assert "24x7 (America/New_York)" in answer.text
    assert policy_of(bot).calendar.is_always
    ask(bot, "hours Mon-Thu 22:00-06:00")
    calendar = policy_of(bot).calendar
    assert not calendar.is_always and calendar.tz == "America/New_York"


@pytest.mark.parametrize(
    ("command", "complaint"),
    [
        ("hours", "working hours"),
        ("hours Mon-Fri 09:00-17:00 tz=Mars/Olympus", "not a time zone"),
        ("hours Funday 09:00-17:00", "unknown day"),
        ("hours Mon-Fri 25:00-26:00", "25:00"),
        ("hours 24x7 holidays=DE", "no holidays"),
    ],
)
def test_hours_bad_input_shows_usage_and_changes_nothing(bot, command, complaint):
    answer = ask(bot, command)
    assert answer.private
    assert complaint in answer.text
    assert "/sla hours" in answer.text
    assert policy_of(bot) == Policy.default()


# -- responders -------------------------------------------------------------------------------


def test_a_responders_own_reply_answers_a_ticket_they_opened(bot):
    ask(bot, "track")
    ts, _ = bot.slack.message("Customer ACME cannot log in (posted for them)", user=AGENT)
    bot.settle()  # the ticket exists before the reply arrives
    bot.slack.message("Reset their password, please confirm", user=AGENT, thread_ts=ts)
    bot.settle()
    assert tickets(bot)[0].first_response_stopped_at is None  # the requester's own reply

    refused = ask(bot, "responders <@UAGENT>", user=AGENT)
    assert refused.private and "only workspace admins" in refused.text
    answer = ask(bot, "responders <@UAGENT|alex>")
    assert "replies by <@UAGENT> count as the team's answer" in answer.text
    assert channel_row(bot).responder_user_ids == [AGENT]
    assert "*Responders*: <@UAGENT>" in ask(bot, "policy", user=AGENT).text

    bot.slack.message("Done, password reset", user=AGENT, thread_ts=ts)
    bot.settle()
    assert tickets(bot)[0].first_response_stopped_at is not None

    assert "has no responders now" in ask(bot, "responders off").text
    assert channel_row(bot).responder_user_ids == []
    assert "/sla responders @user" in ask(bot, "responders").text


# -- escalate ---------------------------------------------------------------------------------


def test_escalate_to_channel_and_managers(bot):
    answer = ask(bot, "escalate <#C0LEADS|support-leads> <@UMGR1|mia> <@UMGR2>")
    assert "<#C0LEADS>" in answer.text and "<@UMGR1>" in answer.text
    row = channel_row(bot)
    assert row.escalation_channel_ids == ["C0LEADS"]
    assert row.manager_user_ids == ["UMGR1", "UMGR2"]
    assert not row.tracking  # configuring escalation does not start tracking

    ask(bot, "escalate <@UMGR3>")
    row = channel_row(bot)
    assert (row.escalation_channel_ids, row.manager_user_ids) == (["C0LEADS"], ["UMGR3"])
    assert "<#C0LEADS>" in ask(bot, "policy").everything

    assert "only announced in their thread" in ask(bot, "escalate off").text
    row = channel_row(bot)
    assert (row.escalation_channel_ids, row.manager_user_ids) == ([], [])


def test_escalate_plain_name_that_slack_cannot_find_is_explained(bot):
    answer = ask(bot, "escalate #nowhere")
    assert answer.private
    assert "could not find #nowhere" in answer.text
    assert channel_row(bot) is None


@pytest.mark.parametrize(
    ("command", "complaint"),
    [("escalate", "name a channel"), ("escalate #a #b", "only one"),
     ("escalate leads", "neither a #channel nor an @person")],
)
def test_escalate_bad_input_shows_usage(bot, command, complaint):
    answer = ask(bot, command)
    assert complaint in answer.text
    assert "/sla escalate #channel @user ..." in answer.text
    assert channel_row(bot) is None


def test_admin_check_uses_slack_for_workspace_admins(bot):
    ask(bot, "track", user=ADMIN)
    asked = [call.params.get("user") for call in bot.fake.calls("users.info")]
    assert ADMIN in asked
    assert channel_row(bot, CHANNEL).tracking


def test_escalating_to_a_channel_the_bot_cannot_post_in_is_refused_with_the_fix(bot):
    bot.fake.add_channel("C0QUIET", name="quiet", members=[ADMIN], bot_is_member=False)
    for target in ("<#C0NOPE|nope>", "<#C0QUIET|quiet>"):
        answer = ask(bot, f"escalate {target}")
        assert answer.private
        assert "I am not in <#C0" in answer.text and "/invite @slabot" in answer.text
    assert "go to <#C0LEADS>" in ask(bot, "escalate <#C0LEADS|support-leads>").text


def test_a_digest_for_a_channel_the_bot_is_not_in_is_refused_with_the_fix(bot):
    answer = ask(bot, "digest subscribe <#C0NOPE|nope>")
    assert answer.private and "/invite @slabot" in answer.text
    assert "C0NOPE" not in ask(bot, "digest list").text


def test_digest_list_shows_only_subscriptions_about_channels_the_asker_is_in(bot):
    bot.fake.add_channel("C0SECRET", name="secret", members=[ADMIN], is_private=True)
    ask(bot, "digest subscribe <#C0MANAGERS|managers>", channel="C0SECRET")
    ask(bot, "digest subscribe <#C0MANAGERS|managers>")
    assert "C0SECRET" in ask(bot, "digest list").text  # an admin sees every subscription
    listed = ask(bot, "digest list", user=AGENT).text
    assert "C0SECRET" not in listed and "secret" not in listed
    assert "<#C0SUPPORT>" not in listed  # the agent is not in #managers either
    bot.fake.channels["C0MANAGERS"].members.append(AGENT)
    listed = ask(bot, "digest list", user=AGENT).text
    assert "<#C0SUPPORT>" in listed and "C0SECRET" not in listed
