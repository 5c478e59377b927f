"""Responders in `/sla report`: admins see everyone, a person only their own row."""

from __future__ import annotations

import json
from datetime import timedelta

from commands.ids import Action
from tests.e2e.conftest import ADMIN, AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, tickets

HELPER = "UHELPER"


def support_day(bot) -> None:
    """SLA-1 answered by the agent after 20m and resolved; SLA-2 assigned to the helper,
    answered by the helper after 2h (P2 first response is 1h: a breach while assigned)."""
    ask(bot, "track P2")
    first, _ = bot.slack.message("Checkout shows a 500")
    bot.settle()
    bot.clock.advance(timedelta(minutes=20))
    bot.slack.message("On it", user=AGENT, thread_ts=first)
    bot.settle()
    ask(bot, "resolve SLA-1", user=AGENT)
    second, _ = bot.slack.message("Invoices are blank")
    bot.settle()
    assert "assigned to <@UHELPER> now" in ask(bot, f"assign SLA-2 <@{HELPER}|helper>",
                                               user=ADMIN).text
    bot.clock.advance(timedelta(hours=2))
    bot.slack.message("Sorry for the wait", user=HELPER, thread_ts=second)
    bot.settle()
    bot.clock.advance(timedelta(hours=1))


def responders_text(answer) -> str:
    return next(
        (b["text"]["text"] for b in answer.blocks
         if b.get("type") == "section" and "esponder" in b.get("text", {}).get("text", "")),
        "",
    )


def test_admins_see_every_responder(bot):
    support_day(bot)
    text = responders_text(ask(bot, "report 7d", user=ADMIN))
    assert "*Responders*" in text
    assert f"<@{AGENT}> · 1 first response, median 20m · 1 resolved · 0 breaches" in text
    assert f"<@{HELPER}> · 1 first response, median 2h · 0 resolved · 1 breach " \
        "while assigned" in text


def test_a_person_sees_only_their_own_row(bot):
    support_day(bot)
    answer = ask(bot, "report 7d", user=AGENT)
    text = responders_text(answer)
    assert "You as a responder" in text
    assert f"<@{AGENT}> · 1 first response" in text
    assert HELPER not in json.dumps(answer.blocks) and HELPER not in answer.text


def test_someone_who_answered_nothing_is_told_so(bot):
    support_day(bot)
    text = responders_text(ask(bot, "report 7d", user=REQUESTER))
    assert "No first responses, resolutions or breaches of yours here." in text


def test_a_breach_is_charged_to_whoever_has_the_ticket_when_it_happens(bot):
    """Taken with the card's button, handed over before the target passed, taken back after:
    only the person holding it at the breach is charged."""
    ask(bot, "track P2")  # first response due in 1h
    bot.slack.message("VPN is down")
    bot.settle()
    [ticket] = tickets(bot)
    bot.slack.action(Action.TAKE.value, "SLA-1", user=AGENT, message_ts=ticket.card_ts)
    bot.settle()
    bot.clock.advance(timedelta(minutes=30))
    ask(bot, f"assign SLA-1 <@{HELPER}>", user=AGENT)
    bot.clock.advance(timedelta(hours=1))  # the target passes while the helper has it
    ask(bot, "assign SLA-1 me", user=AGENT)
    text = responders_text(ask(bot, "report 7d", user=ADMIN))
    assert f"<@{HELPER}> · 0 first responses · 0 resolved · 1 breach while assigned" in text
    assert f"<@{AGENT}>" not in text


def test_the_first_responder_made_assignee_is_charged_for_a_later_breach(bot):
    """Nobody assigned it: the agent's first answer makes them the assignee, so the
    resolution target passing afterwards is a breach while assigned to them."""
    ask(bot, "track P2")
    thread, _ = bot.slack.message("Exports time out")
    bot.settle()
    bot.clock.advance(timedelta(minutes=10))
    bot.slack.message("Looking", user=AGENT, thread_ts=thread)
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.assignee_id == AGENT
    bot.clock.advance(timedelta(days=7))  # far past every P2 resolution target
    text = responders_text(ask(bot, "report 7d", user=ADMIN))
    assert f"<@{AGENT}> · 1 first response, median 10m · 0 resolved · 1 breach " \
        "while assigned" in text
