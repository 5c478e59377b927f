"""`/sla explain` and the card's Explain button, end to end over signed HTTP.

The clock starts Monday 2026-11-23 10:00 UTC; the stock policy runs Mon-Fri 09:00-17:00 UTC,
so a P3 ticket opened then owes its first response at 14:00 the same day.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot.scheduler import SchedulerOptions, run_cycle
from commands.ids import Action
from tests.e2e.conftest import ADMIN, AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, tickets

OTHER = "C0OTHER"


def open_ticket(bot, text: str = "Invoices page is blank") -> str:
    ask(bot, "track")
    root, _ = bot.slack.message(text)
    bot.settle()
    return root


def test_explain_tells_why_with_segments_adding_up_to_the_clock(bot):
    open_ticket(bot)
    bot.clock.advance(timedelta(hours=1))
    ask(bot, "pause SLA-1 waiting on <!channel> & the vendor", user=AGENT)
    bot.clock.advance(timedelta(hours=2))
    ask(bot, "resume SLA-1", user=AGENT)
    bot.clock.advance(timedelta(hours=3, minutes=30))  # Mon 16:30: 4h30 counted of 4h
    answer = ask(bot, "explain SLA-1", user=REQUESTER)
    assert answer.private
    text = answer.text
    assert len(text) <= 3000
    assert "breached" in text
    assert "first response ran 4h 30m of business time against its 4h P3 target (30m over)" in text
    # The pause shows with its reason, escaped: no channel ping, no raw ampersand.
    assert "paused (waiting on &lt;!channel&gt; &amp; the vendor): held 2h" in text
    assert "<!channel>" not in text
    assert "running: +1h" in text and "running: +3h 30m" in text
    assert "counted 4h 30m" in text
    assert "breach (4h) " in text and "50% (2h)" in text


def test_explain_says_fine_and_when_the_nudges_will_fire(bot):
    open_ticket(bot)
    bot.clock.advance(timedelta(minutes=30))
    answer = ask(bot, "explain SLA-1")
    assert "Fine: first response has 3h 30m of business time left" in answer.text
    assert "50% (2h) will fire Mon 23 Nov 12:00" in answer.text


def test_another_channels_ticket_reads_as_unknown_but_admins_see_it(bot):
    open_ticket(bot)
    stranger = ask(bot, "explain SLA-1", user=AGENT, channel=OTHER)
    assert stranger.private
    assert "There is no ticket SLA-1 in <#C0OTHER>" in stranger.text
    assert "Invoices" not in stranger.text and "first response" not in stranger.text
    admin = ask(bot, "explain SLA-1", user=ADMIN, channel=OTHER)
    assert "First response" in admin.text


def test_explain_bad_input_shows_usage(bot):
    answer = ask(bot, "explain")
    assert "which ticket?" in answer.text and "/sla explain SLA-42" in answer.text


def test_card_has_an_explain_button_that_answers_only_the_presser(bot):
    open_ticket(bot)
    card = bot.fake.calls("chat.postMessage")[-1].params
    blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert Action.EXPLAIN.value in ids
    before = len(bot.fake.calls("response_url"))
    redraws = len(bot.fake.calls("chat.update"))
    card_ts = tickets(bot)[0].card_ts
    response = bot.slack.action(Action.EXPLAIN.value, "SLA-1", user=AGENT, message_ts=card_ts)
    assert response.status == 200
    bot.settle()
    answers = bot.fake.calls("response_url")[before:]
    assert len(answers) == 1
    assert answers[0].params["response_type"] == "ephemeral"
    assert "First response" in answers[0].params["text"]
    # A read changes nothing: the card is not redrawn.
    assert len(bot.fake.calls("chat.update")) == redraws


def test_a_long_history_is_clipped_with_a_count_of_hidden_segments(bot):
    open_ticket(bot)
    for _ in range(40):
        ask(bot, "pause SLA-1 customer away", user=AGENT)
        bot.clock.advance(timedelta(minutes=20))
        ask(bot, "resume SLA-1", user=AGENT)
        bot.clock.advance(timedelta(hours=3))
    answer = ask(bot, "explain SLA-1")
    assert len(answer.text) <= 3000
    assert "more segments" in answer.text


def test_a_crafted_button_value_is_quoted_not_rendered(bot):
    open_ticket(bot)
    before = len(bot.fake.calls("response_url"))
    response = bot.slack.action(Action.EXPLAIN.value, "<!channel> SLA-1", user=AGENT)
    assert response.status == 200
    bot.settle()
    [answer] = bot.fake.calls("response_url")[before:]
    assert answer.params["response_type"] == "ephemeral"
    assert "&lt;!channel&gt;" in answer.params["text"]
    assert "<!channel>" not in answer.params["text"]


def test_explain_shows_when_the_scheduler_sent_each_nudge(bot):
    open_ticket(bot)  # P3 at Mon 10:00: 50% of 4h at 12:00, 80% at 13:12
    bot.clock.advance(timedelta(hours=2, minutes=5))
    run_cycle(bot.deps, SchedulerOptions(holder="test"))
    bot.settle()
    answer = ask(bot, "explain SLA-1")
    assert "50% (2h) sent Mon 23 Nov 12:05" in answer.text  # sent when the cycle ran
    assert "80% (3h 12m) will fire Mon 23 Nov 13:12" in answer.text
