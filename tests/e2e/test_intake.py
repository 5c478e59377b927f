"""Intake: which Slack messages become tickets, and that each becomes exactly one."""

from __future__ import annotations

from sqlmodel import select

from bot.sandbox.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID
from commands.ids import Callback
from storage.db import unit_of_work
from storage.models import Ticket
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.e2e.conftest import AGENT, CHANNEL, REQUESTER

OTHER_CHANNEL = "C0RANDOM"


def track(bot, channel: str = CHANNEL, default_priority: str | None = None) -> None:
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=channel,
                      default_priority=default_priority)


def tickets(bot) -> list[Ticket]:
    with unit_of_work(bot.deps.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.number)))


def cards(bot):
    return bot.fake.calls("chat.postMessage")


def test_message_in_tracked_channel_becomes_ticket_with_card_in_thread(bot):
    track(bot)
    ts, response = bot.slack.message("The VPN is refusing logins since 9:00")
    assert response.status == 200
    bot.settle()

    [ticket] = tickets(bot)
    assert (ticket.key, ticket.channel_id, ticket.message_ts) == ("SLA-1", CHANNEL, ts)
    assert ticket.requester_id == REQUESTER
    assert ticket.priority == "P3"
    assert ticket.first_response_due_at is not None
    [card] = cards(bot)
    assert card.params["channel"] == CHANNEL
    assert card.params["thread_ts"] == ts
    card_text = str(card.json_param("blocks"))
    assert "SLA-1" in card_text
    assert "Berlin" in card_text  # due times in the requester's time zone
    assert ticket.card_ts == bot.fake.messages[(CHANNEL, ticket.card_ts)]["ts"]


def test_message_in_untracked_channel_is_not_a_ticket(bot):
    track(bot)
    bot.slack.message("hello there", channel=OTHER_CHANNEL)
    bot.settle()
    assert tickets(bot) == []
    assert cards(bot) == []


def test_bot_edit_join_and_thread_messages_are_not_tickets(bot):
    track(bot)
    root, _ = bot.slack.message("a real question")
    bot.settle()
    bot.fake.clear()

    bot.slack.message("I am a bot", user=BOT_USER_ID, bot_id=BOT_ID, subtype="bot_message")
    bot.slack.message("edited", subtype="message_changed")
    bot.slack.message("<@UNEW> has joined the channel", user="UNEW", subtype="channel_join")
    bot.slack.message("a reply in the thread", user=REQUESTER, thread_ts=root)
    bot.settle()

    assert [t.message_ts for t in tickets(bot)] == [root]
    assert cards(bot) == []


def test_retried_event_makes_one_ticket_and_one_card(bot):
    track(bot)
    ts, first = bot.slack.message("printer on fire", event_id="EvRETRY1")
    _, retry = bot.slack.message("printer on fire", ts=ts, event_id="EvRETRY1", retry_num=1)
    _, other_id = bot.slack.message("printer on fire", ts=ts, event_id="EvDIFFERENT")
    bot.settle()

    assert (first.status, retry.status, other_id.status) == (200, 200, 200)
    assert len(tickets(bot)) == 1
    assert len(cards(bot)) == 1


def test_priority_words_raise_the_channel_default(bot):
    track(bot, default_priority="P3")
    bot.slack.message("Checkout outage in EU!")
    bot.slack.message("urgent: invoices stuck")
    bot.slack.message(":rotating_light: payments failing")
    bot.slack.message("just a question, P4 really")
    bot.settle()
    by_text = {t.text: t.priority for t in tickets(bot)}
    assert by_text == {
        "Checkout outage in EU!": "P1",
        "urgent: invoices stuck": "P2",
        ":rotating_light: payments failing": "P1",
        "just a question, P4 really": "P3",
    }


def test_ticket_reaction_tracks_a_message_in_any_channel(bot):
    ts = bot.slack.next_ts()
    bot.fake.add_message(OTHER_CHANNEL, ts, REQUESTER, "disk full on build-7")
    bot.slack.reaction("ticket", ts=ts, channel=OTHER_CHANNEL, user=AGENT)
    bot.slack.reaction("ticket", ts=ts, channel=OTHER_CHANNEL, user="USOMEONE")
    bot.settle()

    [ticket] = tickets(bot)
    assert (ticket.channel_id, ticket.message_ts, ticket.source) == (OTHER_CHANNEL, ts, "reaction")
    assert ticket.requester_id == REQUESTER
    assert ticket.text == "disk full on build-7"
    assert len(cards(bot)) == 1


def test_message_shortcut_tracks_and_tells_the_user_privately(bot):
    ts = bot.slack.next_ts()
    response = bot.slack.shortcut(Callback.TRACK_MESSAGE, message_ts=ts, text="SSO broken",
                                  channel=OTHER_CHANNEL)
    assert response.status == 200
    bot.settle()
    again = bot.slack.shortcut(Callback.TRACK_MESSAGE, message_ts=ts, text="SSO broken",
                               channel=OTHER_CHANNEL)
    assert again.status == 200
    bot.settle()

    [ticket] = tickets(bot)
    assert ticket.source == "shortcut"
    replies = [c.params for c in bot.fake.calls("response_url")]
    assert [r["response_type"] for r in replies] == ["ephemeral", "ephemeral"]
    assert "Tracking this message as *SLA-1*" in replies[0]["text"]
    assert "already tracked as *SLA-1*" in replies[1]["text"]
    assert len(cards(bot)) == 1


def test_message_shortcut_on_a_thread_reply_is_refused_privately(bot):
    track(bot)
    root, _ = bot.slack.message("The VPN is refusing logins")
    bot.settle()
    bot.fake.clear()
    reply = bot.slack.next_ts()
    response = bot.slack.shortcut(Callback.TRACK_MESSAGE, message_ts=reply, thread_ts=root,
                                  text="me too, since 9:00")
    assert response.status == 200
    bot.settle()

    assert [t.message_ts for t in tickets(bot)] == [root]  # no second ticket in SLA-1's thread
    assert cards(bot) == []
    [answer] = [c.params for c in bot.fake.calls("response_url")]
    assert answer["response_type"] == "ephemeral"
    assert "track the thread's first message instead" in answer["text"]


def test_ticket_reaction_on_a_thread_reply_is_refused_privately(bot):
    track(bot)
    root, _ = bot.slack.message("The VPN is refusing logins")
    bot.settle()
    bot.fake.clear()
    reply = bot.slack.next_ts()
    bot.fake.add_message(CHANNEL, reply, REQUESTER, "me too, since 9:00", thread_ts=root)
    bot.slack.reaction("ticket", ts=reply, user=AGENT)
    bot.settle()

    assert [t.message_ts for t in tickets(bot)] == [root]
    assert cards(bot) == []
    [note] = [c.params for c in bot.fake.calls("chat.postEphemeral")]
    assert (note["channel"], note["user"]) == (CHANNEL, AGENT)
    assert "track the thread's first message instead" in note["text"]
