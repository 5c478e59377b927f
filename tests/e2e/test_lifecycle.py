"""Ticket lifecycle over real HTTP: responses, pause/resume, priority, resolve, reopen."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.sandbox.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID
from commands.ids import Action
from storage.db import unit_of_work
from storage.models import Ticket, TicketEvent
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.e2e.conftest import AGENT, CHANNEL, REQUESTER
from tests.e2e.verbs_helpers import ask


def open_ticket(bot, text: str = "Cannot log in to the VPN") -> tuple[str, Ticket]:
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=CHANNEL)
    ts, _ = bot.slack.message(text)
    bot.settle()
    return ts, ticket(bot)


def ticket(bot) -> Ticket:
    with unit_of_work(bot.deps.engine) as session:
        return session.exec(select(Ticket)).one()


def history(bot) -> list[str]:
    with unit_of_work(bot.deps.engine) as session:
        rows = session.exec(select(TicketEvent).order_by(TicketEvent.at, TicketEvent.id))
        return [row.kind for row in rows]


def card_updates(bot) -> list[str]:
    """Texts of the card's chat.update calls, in order."""
    return [c.params["text"] for c in bot.fake.calls("chat.update")]


def press(bot, action: Action, key: str = "SLA-1", user: str = AGENT):
    card_ts = ticket(bot).card_ts
    response = bot.slack.action(action.value, key, user=user, message_ts=card_ts)
    assert response.status == 200
    bot.settle()
    return response


def test_first_thread_reply_by_someone_else_is_the_first_response(bot):
    root, created = open_ticket(bot)
    bot.clock.advance(timedelta(minutes=12))
    bot.slack.message("Looking into it", user=AGENT, thread_ts=root)
    bot.settle()

    after = ticket(bot)
    assert after.first_response_at == created.created_at + timedelta(minutes=12)
    assert after.first_response_breached is False
    assert after.first_response_elapsed_s == 12 * 60
    assert after.assignee_id == AGENT  # the first responder picks it up
    [update] = bot.fake.calls("chat.update")
    assert update.params["ts"] == created.card_ts
    assert "met in 12m" in str(update.json_param("blocks"))


def test_requester_and_bot_replies_are_not_a_response(bot):
    root, _ = open_ticket(bot)
    bot.slack.message("any news?", user=REQUESTER, thread_ts=root)
    bot.slack.message("I am a bot", user=BOT_USER_ID, bot_id=BOT_ID, thread_ts=root,
                      subtype="bot_message")
    bot.settle()
    assert ticket(bot).first_response_at is None
    assert history(bot) == ["created"]


def test_eyes_reaction_on_the_root_counts_as_first_response(bot):
    root, _ = open_ticket(bot)
    bot.clock.advance(timedelta(minutes=5))
    bot.slack.reaction("eyes", ts=root, user=AGENT)
    bot.settle()
    assert ticket(bot).first_response_at is not None
    assert history(bot) == ["created", "responded", "assigned"]


def test_eyes_by_the_requester_is_not_a_response(bot):
    root, _ = open_ticket(bot)
    bot.slack.reaction("eyes", ts=root, user=REQUESTER)
    bot.settle()
    assert ticket(bot).first_response_at is None


def test_pause_and_resume_buttons_stop_and_restart_the_clock(bot):
    _, created = open_ticket(bot)
    due_before = created.resolution_due_at
    press(bot, Action.PAUSE)
    paused = ticket(bot)
    assert paused.status == "paused"
    assert paused.resolution_due_at is None
    assert "Paused" in card_updates(bot)[-1]

    bot.clock.advance(timedelta(hours=2))
    press(bot, Action.RESUME)
    resumed = ticket(bot)
    assert resumed.status == "open"
    # Two business hours paused push the due instant out by two business hours.
    assert resumed.resolution_due_at == due_before + timedelta(hours=2)
    assert "Open" in card_updates(bot)[-1]


def test_pause_of_a_paused_ticket_is_refused_privately(bot):
    open_ticket(bot)
    press(bot, Action.PAUSE)
    press(bot, Action.PAUSE)
    [refusal] = [c for c in bot.fake.calls("response_url")]
    assert "already paused" in refusal.params["text"]
    assert refusal.params["response_type"] == "ephemeral"
    assert history(bot) == ["created", "paused"]


def test_priority_button_changes_targets_and_card(bot):
    _, created = open_ticket(bot)
    assert created.priority == "P3"
    press(bot, Action.PRIORITY_P1)
    raised = ticket(bot)
    assert raised.priority == "P1"
    assert raised.first_response_due_at == created.created_at + timedelta(minutes=15)
    assert card_updates(bot)[-1].startswith("SLA-1 · P1")


def test_resolve_button_stops_resolution_and_shows_reopen(bot):
    open_ticket(bot)
    bot.clock.advance(timedelta(hours=1))
    press(bot, Action.RESOLVE)
    done = ticket(bot)
    assert done.status == "resolved"
    assert done.resolved_at is not None
    assert done.next_due_at is None
    blocks = str(bot.fake.calls("chat.update")[-1].json_param("blocks"))
    assert Action.REOPEN.value in blocks
    assert Action.RESOLVE.value not in blocks


def test_check_mark_reaction_on_the_root_resolves_once(bot):
    root, _ = open_ticket(bot)
    bot.slack.reaction("white_check_mark", ts=root, user=AGENT)
    bot.slack.reaction("white_check_mark", ts=root, user=REQUESTER)
    bot.settle()
    assert ticket(bot).status == "resolved"
    assert history(bot) == ["created", "resolved"]


def test_check_mark_on_a_thread_reply_does_not_resolve(bot):
    root, _ = open_ticket(bot)
    reply, _ = bot.slack.message("try restarting", user=AGENT, thread_ts=root)
    bot.settle()
    bot.slack.reaction("white_check_mark", ts=reply, user=REQUESTER)
    bot.settle()
    assert ticket(bot).status == "open"


def test_requester_reply_within_seven_days_reopens(bot):
    root, _ = open_ticket(bot)
    press(bot, Action.RESOLVE)
    bot.clock.advance(timedelta(days=6))
    bot.slack.message("it is broken again", user=REQUESTER, thread_ts=root)
    bot.settle()
    reopened = ticket(bot)
    assert reopened.status == "open"
    assert reopened.resolved_at is None
    assert history(bot)[-1] == "reopened"
    assert "Open" in card_updates(bot)[-1]


def test_requester_reply_after_seven_days_does_not_reopen(bot):
    root, _ = open_ticket(bot)
    press(bot, Action.RESOLVE)
    bot.clock.advance(timedelta(days=8))
    bot.slack.message("thanks again!", user=REQUESTER, thread_ts=root)
    bot.settle()
    assert ticket(bot).status == "resolved"


def test_reopen_button_resumes_resolution_where_it_stopped(bot):
    open_ticket(bot)
    bot.clock.advance(timedelta(hours=1))
    press(bot, Action.RESOLVE)
    bot.clock.advance(timedelta(hours=3))
    press(bot, Action.REOPEN)
    reopened = ticket(bot)
    assert reopened.status == "open"
    assert reopened.resolution_elapsed_s == 3600


def test_card_update_survives_a_rate_limit(bot, slack_retry_waits):
    open_ticket(bot)
    bot.fake.fail("chat.update", status=429, times=1, retry_after=1)
    press(bot, Action.PAUSE)
    updates = bot.fake.calls("chat.update")
    assert len(updates) == 2  # the 429, then the retry after Retry-After
    assert len(slack_retry_waits) == 1 and slack_retry_waits[0] >= 1
    assert "Paused" in bot.fake.messages[(CHANNEL, ticket(bot).card_ts)]["text"]


def test_app_home_lists_the_users_open_tickets(bot):
    open_ticket(bot, "Laptop will not boot")
    bot.slack.message("Coffee machine leaks", user="USOMEONE")
    bot.settle()
    bot.slack.event({"type": "app_home_opened", "user": REQUESTER, "channel": "DHOME",
                     "tab": "home", "event_ts": bot.slack.next_ts()})
    bot.settle()
    [publish] = bot.fake.calls("views.publish")
    assert publish.params["user_id"] == REQUESTER
    home = str(bot.fake.views[REQUESTER])
    assert "SLA-1" in home and "Laptop will not boot" in home
    assert "SLA-2" not in home  # someone else's ticket


def test_next_response_runs_from_requester_reply_to_team_reply(bot):
    from sla.policy import Policy
    from sla.targets import Metric
    from storage.repositories.workspaces import save_policy

    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        track_channel(session=session, workspace_id=workspace.id, channel_id=CHANNEL)
        policy = Policy.default().with_target("P3", Metric.NEXT_RESPONSE, timedelta(hours=2))
        save_policy(session=session, workspace_id=workspace.id, channel_id=CHANNEL,
                    policy=policy)
    root, _ = bot.slack.message("Exports time out")
    bot.settle()
    bot.clock.advance(timedelta(minutes=10))
    bot.slack.message("Can you send the export id?", user=AGENT, thread_ts=root)
    bot.settle()
    bot.clock.advance(timedelta(minutes=5))
    bot.slack.message("It is EXP-991", user=REQUESTER, thread_ts=root)
    bot.settle()
    waiting = ticket(bot)
    assert waiting.next_response_due_at == bot.clock.now() + timedelta(hours=2)

    bot.clock.advance(timedelta(minutes=30))
    bot.slack.message("Found it, fixing", user=AGENT, thread_ts=root)
    bot.settle()
    answered = ticket(bot)
    assert history(bot) == ["created", "responded", "assigned", "requester_replied", "responded"]
    assert answered.next_response_elapsed_s == 30 * 60
    assert answered.next_response_breached is False


def thread_notes(bot, root: str) -> list[str]:
    """Texts the bot posted in the ticket's thread, other than the card."""
    return [c.params["text"] for c in bot.fake.calls("chat.postMessage")
            if c.params.get("thread_ts") == root and not c.params.get("blocks")]


def test_priority_button_leaves_a_note_in_the_thread(bot):
    root, _ = open_ticket(bot)
    press(bot, Action.PRIORITY_P1)
    press(bot, Action.PRIORITY_P1)  # unchanged: no second note
    assert thread_notes(bot, root) == [f"Priority set to P1 by <@{AGENT}> (was P3)"]


def test_requester_may_raise_but_not_lower_their_own_ticket(bot):
    root, _ = open_ticket(bot, "Production outage in EU")
    assert ticket(bot).priority == "P1"
    press(bot, Action.PRIORITY_P4, user=REQUESTER)
    assert ticket(bot).priority == "P1"
    [refusal] = [c.params for c in bot.fake.calls("response_url")]
    assert refusal["response_type"] == "ephemeral"
    assert "only the team can lower" in refusal["text"]
    assert thread_notes(bot, root) == []

    press(bot, Action.PRIORITY_P2, user=AGENT)  # the team may lower it
    press(bot, Action.PRIORITY_P1, user=REQUESTER)  # and the requester raise it again
    assert ticket(bot).priority == "P1"
    assert thread_notes(bot, root) == [
        f"Priority set to P2 by <@{AGENT}> (was P1)",
        f"Priority set to P1 by <@{REQUESTER}> (was P2)",
    ]


def test_buttons_only_move_tickets_of_the_channel_they_were_pressed_in(bot):
    open_ticket(bot)
    card_ts = ticket(bot).card_ts
    bot.slack.action(Action.RESOLVE.value, "SLA-99", message_ts=card_ts)
    bot.settle()
    [unknown] = [c.params["text"] for c in bot.fake.calls("response_url")]
    assert "no ticket SLA-99" in unknown
    bot.fake.clear()

    for action in (Action.RESOLVE, Action.PAUSE, Action.PRIORITY_P1):
        bot.slack.action(action.value, "SLA-1", channel="C0ELSEWHERE", message_ts=card_ts)
    bot.settle()

    assert history(bot) == ["created"]
    answers = [c.params["text"] for c in bot.fake.calls("response_url")]
    assert answers == [unknown.replace("SLA-99", "SLA-1")] * 3  # as if it did not exist


def test_refusals_look_the_same_from_a_button_and_from_sla(bot):
    open_ticket(bot, "Production outage in EU")
    press(bot, Action.PRIORITY_P4, user=REQUESTER)
    [from_button] = [c.params["text"] for c in bot.fake.calls("response_url")]
    from_command = ask(bot, "untrack", user=REQUESTER).text
    assert "only workspace admins" in from_command
    assert from_button.split()[0] == from_command.split()[0] == ":lock:"
