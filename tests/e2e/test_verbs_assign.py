"""Who has a ticket, end to end: `/sla assign SLA-1 @person|me|none` and the card's Take it.

The clock starts Monday 2026-11-23 10:00 UTC, inside the stock Mon-Fri 09:00-17:00 hours.
"""

from __future__ import annotations

import json

import pytest

from commands.ids import Action
from tests.e2e.conftest import ADMIN, AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, open_desk, tickets

OTHER = "C0OTHER"


@pytest.fixture
def desk(bot):
    """The support channel tracked, with two fresh P3 tickets from the requester."""
    return open_desk(bot)


def assignee(bot, key: str) -> str | None:
    return next(t.assignee_id for t in tickets(bot) if t.key == key)


def thread_notes(bot, key: str) -> list[str]:
    """Texts the bot posted in the ticket's thread, other than the card."""
    return [c.params["text"] for c in bot.fake.calls("chat.postMessage")
            if c.params.get("thread_ts") == bot.roots[key] and not c.params.get("blocks")]


def last_card(bot, key: str) -> str:
    """The blocks of the ticket's latest card redraw, as text."""
    card_ts = next(t.card_ts for t in tickets(bot) if t.key == key)
    [*_, update] = [c for c in bot.fake.calls("chat.update") if c.params["ts"] == card_ts]
    return json.dumps(update.json_param("blocks"))


def press_take(bot, key: str, *, user: str = AGENT, channel: str | None = None) -> None:
    card_ts = next(t.card_ts for t in tickets(bot) if t.key == key)
    where = {"channel": channel} if channel else {}
    response = bot.slack.action(Action.TAKE.value, key, user=user, message_ts=card_ts, **where)
    assert response.status == 200
    bot.settle()


# -- the verb ---------------------------------------------------------------------------------


def test_assign_me_takes_the_ticket_and_tells_the_thread(desk):
    answer = ask(desk, "assign SLA-1 me public", user=AGENT)
    assert answer.private  # the thread note is the public part
    assert answer.text == ":bust_in_silhouette: SLA-1 is yours now; the thread is told."
    assert assignee(desk, "SLA-1") == AGENT
    assert thread_notes(desk, "SLA-1") == [f"Taken by <@{AGENT}>"]
    assert f"Assignee <@{AGENT}>" in last_card(desk, "SLA-1")
    assert f"assigned to <@{AGENT}> by <@{AGENT}>" in ask(desk, "ticket SLA-1").everything
    mine = ask(desk, "list mine", user=AGENT)
    assert "SLA-1" in mine.text and "SLA-2" not in mine.text


def test_anyone_in_the_channel_may_give_a_ticket_to_someone_else(desk):
    answer = ask(desk, f"assign sla-2 <@{AGENT}|agent>", user=REQUESTER)
    assert answer.text == f":bust_in_silhouette: SLA-2 is assigned to <@{AGENT}> now; the " \
        "thread is told."
    assert assignee(desk, "SLA-2") == AGENT
    assert thread_notes(desk, "SLA-2") == [f"Assigned to <@{AGENT}> by <@{REQUESTER}>"]
    assert "SLA-2" in ask(desk, "list mine", user=AGENT).text

    again = ask(desk, f"assign SLA-2 <@{AGENT}>", user=ADMIN)
    assert "SLA-2 is already assigned to <@UAGENT>; nothing changed" in again.text
    assert len(thread_notes(desk, "SLA-2")) == 1


def test_assign_none_leaves_the_ticket_to_nobody(desk):
    ask(desk, "assign SLA-1 me", user=AGENT)
    answer = ask(desk, "assign SLA-1 none", user=ADMIN)
    assert answer.text == ":bust_in_silhouette: SLA-1 is unassigned now; the thread is told."
    assert assignee(desk, "SLA-1") is None
    assert thread_notes(desk, "SLA-1") == [
        f"Taken by <@{AGENT}>", f"Unassigned by <@{ADMIN}> (was <@{AGENT}>)",
    ]
    assert "Assignee" not in last_card(desk, "SLA-1")
    assert "unassigned by <@UADMIN>" in ask(desk, "ticket SLA-1").everything


@pytest.mark.parametrize(
    ("command", "complaint"),
    [
        ("assign SLA-1 @somebody", "I do not know `@somebody`: pick the person from Slack's"),
        ("assign SLA-1 <#C0SUPPORT|support>", "is not a person"),
        ("assign SLA-1", "to whom?"),
        ("assign ann me", "not a ticket key"),
        ("assign SLA-99 me", "There is no ticket SLA-99 in <#C0SUPPORT>"),
    ],
)
def test_bad_assignments_are_explained_privately_and_change_nothing(desk, command, complaint):
    answer = ask(desk, command)
    assert answer.private
    assert complaint in answer.text
    if "no ticket" not in complaint:
        assert "/sla assign SLA-42 @person|me|none" in answer.text
    assert {t.assignee_id for t in tickets(desk)} == {None}
    assert thread_notes(desk, "SLA-1") == []


def test_a_ticket_of_another_channel_cannot_be_assigned_from_here(desk):
    desk.fake.add_channel(OTHER, name="other", members=[AGENT])
    answer = ask(desk, "assign SLA-1 me", user=AGENT, channel=OTHER)
    assert "There is no ticket SLA-1 in <#C0OTHER>" in answer.text
    assert "Invoices" not in answer.everything
    press_take(desk, "SLA-1", channel=OTHER)
    assert assignee(desk, "SLA-1") is None
    assert thread_notes(desk, "SLA-1") == []


def test_help_states_who_may_assign(desk):
    text = ask(desk, "help assign").everything
    assert "/sla assign SLA-42 @person|me|none" in text
    assert "Anyone in this channel may take a ticket, give it to someone else or unassign it" \
        in text


# -- the Take it button -----------------------------------------------------------------------


def test_take_it_gives_the_ticket_to_whoever_pressed_it(desk):
    [card] = [c for c in desk.fake.calls("chat.postMessage")
              if c.params.get("thread_ts") == desk.roots["SLA-1"] and c.params.get("blocks")]
    assert Action.TAKE.value in json.dumps(card.json_param("blocks"))
    desk.fake.clear()
    press_take(desk, "SLA-1", user=AGENT)
    assert assignee(desk, "SLA-1") == AGENT
    assert f"Assignee <@{AGENT}>" in last_card(desk, "SLA-1")
    assert thread_notes(desk, "SLA-1") == [f"Taken by <@{AGENT}>"]
    assert desk.fake.calls("response_url") == []  # the card and the thread say it

    press_take(desk, "SLA-1", user=AGENT)  # already theirs: told privately, no second note
    [answer] = desk.fake.calls("response_url")
    assert answer.params["text"] == ":information_source: SLA-1 is already yours; nothing " \
        "changed."
    assert answer.params["response_type"] == "ephemeral"

    press_take(desk, "SLA-1", user=ADMIN)  # someone else takes it over
    assert assignee(desk, "SLA-1") == ADMIN
    assert thread_notes(desk, "SLA-1") == [
        f"Taken by <@{AGENT}>", f"Taken by <@{ADMIN}> (was <@{AGENT}>)",
    ]
    assert f"Assignee <@{ADMIN}>" in last_card(desk, "SLA-1")
