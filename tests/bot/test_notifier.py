"""The notifier over the fake Slack: retries on 429 and 5xx, DMs, uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError

from commands.slack_notifier import SlackNotifier, build_client
from tests.clocks import FixedClock
from tests.closing import running_fake_slack


@pytest.fixture
def fake():
    with running_fake_slack(token="xoxb-t") as fake:
        yield fake


@pytest.fixture
def notifier(fake):
    return SlackNotifier(build_client("xoxb-t", fake.api_url))


def test_thread_reply_lands_in_the_thread(fake, notifier):
    response = notifier.post_thread_reply("C1", "111.000", "hello")
    [call] = fake.calls("chat.postMessage")
    assert call.params["thread_ts"] == "111.000"
    assert fake.messages[("C1", response["ts"])]["text"] == "hello"


def test_server_errors_are_not_retried_by_the_client(fake, notifier):
    # Slack may have posted before failing: only the outbox retries, after its marker check.
    fake.fail("chat.postMessage", status=503, times=1)
    with pytest.raises(SlackApiError):
        notifier.post_message("C1", "after a hiccup")
    assert len(fake.calls("chat.postMessage")) == 1


def test_rate_limit_honours_retry_after(fake, notifier, slack_retry_waits):
    fake.fail("chat.postMessage", status=429, times=1, retry_after=1)
    assert notifier.post_message("C1", "eventually")["ok"]
    assert len(fake.calls("chat.postMessage")) == 2
    [wait] = slack_retry_waits
    assert 1 <= wait < 2  # Retry-After, plus slack_sdk's jitter


def test_persistent_failure_surfaces_as_an_error(fake, notifier):
    fake.fail("chat.postMessage", status=200, error="channel_not_found", times=1)
    with pytest.raises(SlackApiError):
        notifier.post_message("CGONE", "nobody hears this")


def test_wrong_token_is_rejected_like_slack_does(fake):
    wrong = SlackNotifier(build_client("xoxb-wrong", fake.api_url))
    with pytest.raises(SlackApiError, match="invalid_auth"):
        wrong.post_message("C1", "hi")


def test_dm_opens_the_conversation_first(fake, notifier):
    notifier.dm_user("U42", "psst")
    assert [c.method for c in fake.calls()] == ["conversations.open", "chat.postMessage"]
    assert fake.calls("chat.postMessage")[0].params["channel"] == "D42"


def test_upload_goes_through_the_external_upload_flow(fake, notifier):
    response = notifier.upload_file("C1", b"\x89PNG...", "chart.png", title="Compliance")
    assert [c.method for c in fake.calls()] == [
        "files.getUploadURLExternal", "file_upload", "files.completeUploadExternal"]
    assert fake.uploads[response["file"]["id"]] == b"\x89PNG..."


def test_fixed_clock_moves_only_when_told():
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(minutes=5)) == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))


def test_message_links_need_no_slack_call_once_the_workspace_url_is_known(fake, notifier):
    # Links are built inside units of work: asking Slack there would hold the write lock.
    assert notifier.message_link("C1", "1700000000.000100") is None
    assert fake.calls("auth.test") == []
    notifier.learn_workspace_url()
    first = notifier.message_link("C1", "1700000000.000100")
    second = notifier.message_link("C2", "1700000001.000200")
    assert first == "https://fake.slack.test/archives/C1/p1700000000000100"
    assert second == "https://fake.slack.test/archives/C2/p1700000001000200"
    assert len(fake.calls("auth.test")) == 1
