"""The weekly digest end to end: subscribe through `/sla digest`, send, chart upload, replicas."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

from PIL import Image
from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from bot.scheduler import DigestJobs, DigestSlot, new_background_scheduler
from bot.views.blocks import check_block_kit_limits
from bot.views.digest import DIGEST_VIEWS
from commands.digest_send import send_digest
from sla.events import EventKind
from storage.db import unit_of_work
from storage.models import DigestSubscription, OutboxMessage
from storage.repositories.jobs import acquire_job_slot
from tests.commands.reporting_fixtures import ticket, utc, workspace
from tests.e2e.conftest import ADMIN, AGENT, CHANNEL
from tests.e2e.verbs_helpers import ask

SLOT = utc(2026, 11, 23, 9)  # Monday 09:00 UTC, an hour before the harness clock
MANAGERS = "C0MANAGERS"
RESPONDED, RESOLVED = EventKind.RESPONDED, EventKind.RESOLVED


def _seed_week(bot):
    """Last week in #support: one ticket met both targets, one P1 missed both (24x7 policy)."""
    with unit_of_work(bot.deps.engine) as s:
        ws = workspace(s, team_id=TEAM_ID)
        ticket(s, ws, channel=CHANNEL, priority="P2", created=utc(2026, 11, 17, 10),
               events=((RESPONDED, utc(2026, 11, 17, 10, 30)), (RESOLVED, utc(2026, 11, 17, 12))))
        ticket(s, ws, channel=CHANNEL, priority="P1", created=utc(2026, 11, 18, 10),
               events=((RESPONDED, utc(2026, 11, 18, 11)), (RESOLVED, utc(2026, 11, 18, 16))))


def _subscriptions(bot) -> list[DigestSubscription]:
    with unit_of_work(bot.deps.engine) as session:
        return list(session.exec(select(DigestSubscription).order_by(DigestSubscription.id)))


def _subscribe(bot, text="digest subscribe", user=AGENT) -> int:
    ask(bot, text, user=user)
    return _subscriptions(bot)[-1].id


def test_subscribe_defaults_to_me_monday_0900_about_this_channel(bot):
    answer = ask(bot, "digest subscribe", user=AGENT)
    assert "Subscribed you to the weekly SLA digest of <#C0SUPPORT>, every Mon 09:00 UTC" in (
        answer.text
    )
    [row] = _subscriptions(bot)
    assert (row.target_user_id, row.target_channel_id) == (AGENT, None)
    assert (row.weekday, row.time_of_day, row.tz) == (0, "09:00", "UTC")
    assert (row.scope, row.scope_channel_id) == ("channel", CHANNEL)


def test_subscribe_with_day_time_and_scope(bot):
    ask(bot, "digest subscribe <#C0MANAGERS|managers> fri 16:30 scope: all", user=ADMIN)
    [row] = _subscriptions(bot)
    assert (row.target_channel_id, row.weekday, row.time_of_day) == (MANAGERS, 4, "16:30")
    assert (row.scope, row.scope_channel_id) == ("all", None)


def test_subscribing_twice_to_the_same_digest_keeps_one_subscription(bot):
    ask(bot, "digest subscribe <#C0MANAGERS|managers> fri 16:30", user=ADMIN)
    again = ask(bot, "digest subscribe <#C0MANAGERS|managers> fri 16:30", user=ADMIN)
    [row] = _subscriptions(bot)  # the channel would otherwise get every digest twice
    assert again.private
    assert f"already gets this digest (subscription {row.id})" in again.text
    # Another slot or scope is another subscription.
    ask(bot, "digest subscribe <#C0MANAGERS|managers> mon 09:00", user=ADMIN)
    assert len(_subscriptions(bot)) == 2


def test_channel_target_and_whole_workspace_are_for_admins(bot):
    for text in ("digest subscribe <#C0MANAGERS|managers>", "digest subscribe scope: all"):
        answer = ask(bot, text, user=AGENT)
        assert answer.private and "only workspace admins" in answer.text
    assert _subscriptions(bot) == []


def test_bad_subscribe_input_shows_the_usage(bot):
    answer = ask(bot, "digest subscribe mon 25:00", user=AGENT)
    assert answer.private and "time must be HH:MM" in answer.text
    assert "/sla digest subscribe [#channel|me] [mon 09:00]" in answer.text
    assert "`someday`" in ask(bot, "digest someday", user=AGENT).text


def test_scheduled_digest_posts_blocks_then_uploads_the_chart(bot):
    _seed_week(bot)
    subscription = _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)

    sent = send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()  # the outbox delivers the message, then the chart

    [post] = [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == MANAGERS]
    blocks = post.json_param("blocks")
    check_block_kit_limits(blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "Weekly SLA digest" in text and "Nov 16 to Nov 22" in text
    assert "50% met" in text  # one of two first responses in time, one of two resolutions
    assert "2 opened · 2 resolved" in text
    assert "SLA-2" in text and "https://acme.slack.com/archives/C0SUPPORT/p" in text
    assert post.params["text"].startswith("Weekly SLA digest for <#C0SUPPORT>")
    # The chart goes through Slack's external upload flow, into the same channel.
    [get_url] = bot.fake.calls("files.getUploadURLExternal")
    [upload] = bot.fake.calls("file_upload")
    [complete] = bot.fake.calls("files.completeUploadExternal")
    assert get_url.params["filename"] == "sla-compliance-2026-11-23.png"
    assert int(get_url.params["length"]) == len(upload.body)
    image = Image.open(io.BytesIO(upload.body))
    assert (image.format, image.size) == ("PNG", (1000, 500))
    assert complete.params["channel_id"] == MANAGERS
    with unit_of_work(bot.deps.engine) as session:
        chart = session.exec(select(OutboxMessage).where(
            OutboxMessage.key == sent.chart_key)).one()
    assert chart.slack_ts == complete.json_param("files")[0]["id"]
    # The scheduler firing the same slot again (a retried job) queues nothing new.
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    assert len([c for c in bot.fake.calls("chat.postMessage")
                if c.params["channel"] == MANAGERS]) == 1


def test_digest_to_a_person_arrives_in_their_direct_messages(bot):
    _seed_week(bot)
    subscription = _subscribe(bot)
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    dm = "D" + AGENT.lstrip("U")
    assert [c.params["channel"] for c in bot.fake.calls("chat.postMessage")][-1] == dm
    assert bot.fake.calls("files.completeUploadExternal")[0].params["channel_id"] == dm


def test_empty_week_is_one_line_without_a_chart(bot):
    subscription = _subscribe(bot)
    send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS)
    bot.settle()
    post = bot.fake.calls("chat.postMessage")[-1]
    assert post.params["text"] == "No SLA tickets in <#C0SUPPORT> last week (Nov 16 to Nov 22)."
    assert len(post.json_param("blocks")) == 1
    assert bot.fake.calls("files.getUploadURLExternal") == []


def test_unsubscribed_digest_is_not_sent(bot):
    subscription = _subscribe(bot)
    answer = ask(bot, "digest unsubscribe", user=AGENT)
    assert "Removed 1 digest subscription for you" in answer.text
    posts_before = len(bot.fake.calls("chat.postMessage"))
    assert send_digest(bot.deps, subscription, SLOT, DIGEST_VIEWS) is None
    assert len(bot.fake.calls("chat.postMessage")) == posts_before


def test_list_shows_my_subscriptions(bot):
    _subscribe(bot, "digest subscribe wed 08:15")
    answer = ask(bot, "digest list", user=AGENT)
    assert "to <@UAGENT> about <#C0SUPPORT>, every Wed 08:15 UTC" in answer.text


def test_preview_shows_the_digest_privately_now(bot):
    _seed_week(bot)
    bot.clock.set(utc(2026, 11, 23, 10))
    answer = ask(bot, "digest preview", user=AGENT)
    assert answer.private
    check_block_kit_limits(answer.blocks)
    assert "Weekly SLA digest" in answer.everything
    assert bot.fake.calls("files.getUploadURLExternal") == []


def test_preview_me_sends_the_full_digest_with_chart_to_my_dms(bot):
    _seed_week(bot)
    answer = ask(bot, "digest preview me", user=AGENT)
    assert "Sent the digest of <#C0SUPPORT> to you" in answer.text
    assert bot.fake.calls("files.completeUploadExternal")[0].params["channel_id"] == "DAGENT"


def _run_two_replicas(bot, slot: DigestSlot) -> list[bool]:
    """Two scheduler replicas fire the same digest slot at the same moment."""
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def replica(holder):
        def acquire(name, slot_key):
            barrier.wait(timeout=10)  # both replicas ask for the lease together
            with unit_of_work(bot.deps.engine) as session:
                return acquire_job_slot(session=session, name=name, slot=slot_key, holder=holder)

        jobs = DigestJobs(new_background_scheduler(), acquire_slot=acquire,
                          send=lambda sid, start: send_digest(bot.deps, sid, start, DIGEST_VIEWS),
                          now=bot.clock.now)
        results.append(jobs.run_slot(slot))

    threads = [threading.Thread(target=replica, args=(h,)) for h in ("replica-a", "replica-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


def test_two_replicas_post_each_slot_once(bot):
    _seed_week(bot)
    subscription = _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)
    slot = DigestSlot(subscription, "0 9 * * mon", "UTC")

    assert _run_two_replicas(bot, slot) == [False, True]
    bot.settle()
    posts = [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == MANAGERS]
    assert len(posts) == 1
    assert len(bot.fake.calls("files.completeUploadExternal")) == 1

    # A week later is a new slot and a new lease: posted again, once.
    bot.clock.advance(timedelta(days=7))
    assert _run_two_replicas(bot, slot) == [False, True]
    bot.settle()
    posts = [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == MANAGERS]
    assert len(posts) == 2


def test_stopping_a_channels_digest_is_for_admins(bot):
    _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)
    refused = ask(bot, "digest unsubscribe <#C0MANAGERS|managers>", user=AGENT)
    assert refused.private and "only workspace admins" in refused.text
    assert len(_subscriptions(bot)) == 1
    done = ask(bot, "digest unsubscribe <#C0MANAGERS|managers>", user=ADMIN)
    assert "Removed 1 digest subscription for <#C0MANAGERS>" in done.text
    assert _subscriptions(bot)[0].active is False


def test_digest_without_an_action_lists_the_actions(bot):
    answer = ask(bot, "digest", user=AGENT)
    assert answer.private
    for action in ("subscribe", "unsubscribe", "list", "preview"):
        assert f"/sla digest {action}" in answer.text
    assert "No digest subscriptions yet" in ask(bot, "digest list", user=AGENT).text


def test_unsubscribe_by_the_number_digest_list_shows(bot):
    monday = _subscribe(bot, "digest subscribe me mon 09:00", user=AGENT)
    friday = _subscribe(bot, "digest subscribe me fri 16:00", user=AGENT)
    channel = _subscribe(bot, "digest subscribe <#C0MANAGERS|managers>", user=ADMIN)
    assert f"• {friday}: to <@UAGENT>" in ask(bot, "digest list", user=AGENT).text
    done = ask(bot, f"digest unsubscribe {friday}", user=AGENT)
    assert f"Removed digest subscription {friday}" in done.text
    assert [r.id for r in _subscriptions(bot) if r.active] == [monday, channel]
    # Somebody else's, a channel's without being an admin, or one that does not exist: refused.
    assert "only workspace admins" in ask(bot, f"digest unsubscribe {channel}",
                                          user=AGENT).text
    for number in (monday, 999):
        refused = ask(bot, f"digest unsubscribe {number}", user=ADMIN)
        assert refused.private and f"No digest subscription {number}" in refused.text
    assert [r.id for r in _subscriptions(bot) if r.active] == [monday, channel]
