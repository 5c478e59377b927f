"""`/sla status` forecasts breaches from the team's pace and the queue, and says so.

The clock starts Monday 2026-11-23 10:00 UTC; the stock policy runs Mon-Fri 09:00-17:00 UTC
(P3 first response 4h).
"""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, tickets


def _slow_team(bot, *requesters: str) -> None:
    """One answer in four weeks (the channel is new), then a new request from each of
    `requesters`: a pace far too slow for requests due by 16:00."""
    ask(bot, "track")
    first, _ = bot.slack.message("Old question")
    bot.settle()
    bot.clock.advance(timedelta(hours=2))
    bot.slack.message("Answered", user=AGENT, thread_ts=first)
    bot.settle()
    for n, user in enumerate(requesters):
        bot.slack.message(f"New problem {n}", user=user)
        bot.settle()


def _home_of(bot, user: str) -> str:
    bot.slack.event({"type": "app_home_opened", "user": user, "channel": "DHOME",
                     "tab": "home", "event_ts": bot.slack.next_ts()})
    bot.settle()
    return str(bot.fake.views[user])


def test_status_names_the_tickets_a_slow_team_will_not_reach_in_time(bot):
    _slow_team(bot, REQUESTER, REQUESTER, REQUESTER)
    answer = ask(bot, "status")
    assert len(tickets(bot)) == 4
    assert "Likely to breach before 16:00 (UTC) unless answered: 3 (SLA-2, SLA-3, SLA-4)" \
        in answer.text
    assert "estimate: the team answered 1 time here in the last 4 weeks" in answer.text
    assert "answered earliest due first" in answer.everything


def test_an_idle_channel_forecasts_nothing(bot):
    ask(bot, "track")
    answer = ask(bot, "status")
    assert "Likely to breach before 14:00 (UTC) unless answered: 0" in answer.text


def test_the_workspace_status_has_no_forecast(bot):
    ask(bot, "track")
    assert "Likely to breach" not in ask(bot, "status all").text


def test_the_app_home_names_only_the_readers_tickets_likely_to_breach(bot):
    _slow_team(bot, REQUESTER, REQUESTER, "USOMEONE")
    home = _home_of(bot, REQUESTER)
    assert "Likely to breach in the next 4 business hours" in home
    # The channel's queue holds three; the reader asked two of them. Berlin is UTC+1.
    assert ("<#C0SUPPORT>: likely to breach before 17:00 (Europe/Berlin) unless answered: "
            "2 (SLA-2, SLA-3)") in home
    assert "estimate: the team answered 1 time here in the last 4 weeks" in home
    assert "3 waiting, answered earliest due first" in home


def test_the_app_home_has_no_forecast_when_nothing_of_the_readers_waits(bot):
    ask(bot, "track")
    bot.slack.message("Someone else's problem", user="USOMEONE")
    bot.settle()
    assert "Likely to breach" not in _home_of(bot, REQUESTER)
