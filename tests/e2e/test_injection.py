"""Typed markup never pings or disguises a link, from a message to the card to every answer.

A message is the requester's words and a verb's reason is the agent's: both are shown as
text wherever the bot repeats them (card, thread note, `/sla ticket`, `/sla list`, App Home).
"""

from __future__ import annotations

import contextlib
import json

from tests.e2e.conftest import AGENT
from tests.e2e.verbs_helpers import ask, tickets
from tests.hostile_text import HOSTILE, HOSTILE_AS_SLACK_SENDS, user_markup_in

# Slack shows both as it got them: a real @channel arrives as markup, typed `<` as `&lt;`.
MESSAGES = (HOSTILE, HOSTILE_AS_SLACK_SENDS)


def _posted(bot, method: str) -> list[dict]:
    return [call.params for call in bot.fake.calls(method)]


def _markup(value) -> list[str]:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return user_markup_in(value)


def test_a_hostile_message_becomes_a_card_that_pings_nobody(bot):
    ask(bot, "track")
    for text in MESSAGES:
        bot.slack.message(text)
        bot.settle()
    assert [t.key for t in tickets(bot)] == ["SLA-1", "SLA-2"]
    posts = _posted(bot, "chat.postMessage") + _posted(bot, "chat.update")
    cards = [p for p in posts if "SLA-" in str(p.get("text"))]
    assert len(cards) >= 2
    for params in posts:
        assert not _markup(params.get("text")), params
        assert not _markup(params.get("blocks")), params
    assert any("&lt;!channel&gt;" in json.dumps(p.get("blocks")) for p in cards)
    for call in bot.fake.calls("views.publish"):
        assert not _markup(call.params.get("view"))


def test_a_hostile_reason_is_posted_as_text(bot):
    ask(bot, "track")
    bot.slack.message("Printer on fire")
    bot.settle()
    posts_before = len(bot.fake.calls("chat.postMessage"))
    answer = ask(bot, "resolve SLA-1 <!channel> <https://evil.example|x> public", user=AGENT)
    assert answer.response_type == "in_channel"
    assert "resolved" in answer.text
    assert not _markup(answer.text) and not _markup(answer.blocks)
    assert "&lt;!channel&gt;" in answer.text
    for call in bot.fake.calls("chat.postMessage")[posts_before:] + bot.fake.calls("chat.update"):
        assert not _markup(call.params.get("text")) and not _markup(call.params.get("blocks"))
    for command in ("ticket SLA-1 public", "list public", "list breached", "reopen SLA-1 <!here>"):
        answer = ask(bot, command, user=AGENT)
        assert not _markup(answer.text) and not _markup(answer.blocks), command


def test_a_hostile_unknown_verb_and_bad_arguments_are_quoted_as_text(bot):
    for command in (f"{HOSTILE}", f"ticket {HOSTILE}", f"policy set P1 {HOSTILE}",
                    f"report {HOSTILE}", f"digest subscribe {HOSTILE}"):
        answer = ask(bot, command, user=AGENT)
        assert answer.private
        assert not _markup(answer.text) and not _markup(answer.blocks), command
