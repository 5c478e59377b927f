"""The `/sla` listener's answers: verbs drawn by bot/views, every reply held to Slack's limits."""

from __future__ import annotations

from bot.listeners.sla_command import answer, sla_router
from commands import help as help_verbs
from commands.request import Message, Verb
from commands.router import Router

WHERE = {"team_id": "T1", "channel_id": "C1", "user_id": "U1"}


def _answer(text: str, router: Router | None = None):
    return answer(router or sla_router(), None, {"text": text, **WHERE})


def test_empty_command_shows_help():
    reply = _answer("")
    assert "/sla help" in reply.text
    assert reply.public is False


def test_help_lists_every_verb_with_its_usage():
    router = sla_router()
    reply = _answer("help", router)
    for verb in router.verbs:
        for line in verb.usage:
            assert line in reply.text
    block_text = "\n".join(block["text"]["text"] for block in reply.blocks)
    assert all(len(block["text"]["text"]) <= 3000 for block in reply.blocks)
    assert block_text == reply.text


def test_help_for_one_verb_explains_it():
    router = sla_router()
    for verb in router.verbs:
        reply = _answer(f"help {verb.name}", router)
        assert verb.summary in reply.text
        assert verb.usage[0] in reply.text


def test_every_reply_is_held_to_3000_characters():
    big = Verb("big", ("/sla big",), "y" * 10_000, lambda request: Message("x" * 10_000))
    router = Router([*help_verbs.VERBS, big])
    reply = _answer("big", router)
    assert len(reply.text) == 3000 and reply.text.endswith("…")
    listing = _answer("help", router)
    assert len(listing.text) == 3000 and listing.text.endswith("…")
    assert max(len(block["text"]["text"]) for block in listing.blocks) == 3000
