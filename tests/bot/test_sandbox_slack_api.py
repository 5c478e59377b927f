"""The sandbox's Slack Web API on its own, against what Slack's method reference documents.

Called through slack_sdk's WebClient (what the bot uses), strict as in `slabot demo`: the
argument names Slack takes, its `ok: false` errors, `ts` as "seconds.micro" and cursor paging
in `response_metadata.next_cursor`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.request import Request, urlopen

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack_api import BOT_USER_ID, FakeSlack
from tests.closing import running_fake_slack

TOKEN = "xoxb-sandbox-test"
SUPPORT, QUIET = "C0SUPPORT", "C0QUIET"
RITA, ALEX = "URITA", "UALEX"
TS = re.compile(r"^\d{10}\.\d{6}$")


class Wall:
    """A settable stand-in for time.time."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def wall() -> Wall:
    return Wall(1_796_000_000.25)


@pytest.fixture
def slack(wall: Wall) -> Iterator[FakeSlack]:
    with running_fake_slack(token=TOKEN, strict=True, now=wall) as fake:
        fake.add_user(RITA, name="rita")
        fake.add_user(ALEX, name="alex")
        fake.add_channel(SUPPORT, name="support", members=[RITA, ALEX, BOT_USER_ID])
        fake.add_channel(QUIET, name="quiet", members=[RITA])  # the bot was never invited
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    return raised.value.response["error"]


def test_a_missing_token_is_not_authed_and_a_wrong_one_invalid_auth(slack: FakeSlack) -> None:
    assert error_of(WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test) == (
        "invalid_auth")
    with urlopen(Request(slack.api_url + "auth.test", data=b"", method="POST")) as response:
        assert json.loads(response.read()) == {"ok": False, "error": "not_authed"}


def test_auth_test_names_the_bot_and_the_workspace_url(client: WebClient) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == BOT_USER_ID
    assert answer["url"].endswith("/")


def test_post_message_answers_a_seconds_micro_ts_from_the_clock(
    client: WebClient, wall: Wall
) -> None:
    first = client.chat_postMessage(channel=SUPPORT, text="hello")
    second = client.chat_postMessage(channel=SUPPORT, text="again")  # same instant
    assert TS.match(first["ts"]) and TS.match(second["ts"])
    assert first["ts"] == "1796000000.250000"
    assert float(second["ts"]) > float(first["ts"])  # unique and in posting order
    assert first["channel"] == SUPPORT and first["message"]["text"] == "hello"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_refuses_like_slack(client: WebClient) -> None:
    assert error_of(client.chat_postMessage, channel="C0NOWHERE", text="hi") == (
        "channel_not_found")
    assert error_of(client.chat_postMessage, channel=QUIET, text="hi") == "not_in_channel"
    assert error_of(client.chat_postMessage, channel=SUPPORT, text="") == "no_text"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_with_blocks_only_is_accepted(client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*card*"}}]
    answer = client.chat_postMessage(channel=SUPPORT, blocks=blocks)
    assert answer["message"]["blocks"] == blocks


def test_update_edits_the_bots_message_only(client: WebClient, slack: FakeSlack) -> None:
    posted = client.chat_postMessage(channel=SUPPORT, text="v1")
    updated = client.chat_update(channel=SUPPORT, ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    assert slack.thread(SUPPORT, posted["ts"])[0]["text"] == "v2"
    slack.add_message(SUPPORT, slack.next_ts(), RITA, "a person's words")
    person_ts = slack.channel_messages(SUPPORT)[-1]["ts"]
    assert error_of(client.chat_update, channel=SUPPORT, ts=person_ts, text="x") == (
        "cant_update_message")
    assert error_of(client.chat_update, channel=SUPPORT, ts="1.000001", text="x") == (
        "message_not_found")


def test_delete_removes_the_bots_message(client: WebClient, slack: FakeSlack) -> None:
    posted = client.chat_postMessage(channel=SUPPORT, text="oops")
    client.chat_delete(channel=SUPPORT, ts=posted["ts"])
    assert slack.channel_messages(SUPPORT) == []
    assert error_of(client.chat_delete, channel=SUPPORT, ts=posted["ts"]) == "message_not_found"


def test_post_ephemeral_reaches_one_member_only(client: WebClient, slack: FakeSlack) -> None:
    answer = client.chat_postEphemeral(channel=SUPPORT, user=RITA, text="only you")
    assert TS.match(answer["message_ts"])
    assert [(e["to"], e["text"]) for e in slack.ephemerals] == [(RITA, "only you")]
    assert slack.channel_messages(SUPPORT) == []  # nobody else sees it in the channel
    assert error_of(client.chat_postEphemeral, channel=QUIET, user=RITA, text="x") == (
        "not_in_channel")
    slack.channels[SUPPORT].members.remove(ALEX)
    assert error_of(client.chat_postEphemeral, channel=SUPPORT, user=ALEX, text="x") == (
        "user_not_in_channel")


def test_history_pages_newest_first_through_next_cursor(client: WebClient, wall: Wall) -> None:
    posted = []
    for n in range(5):
        wall.at += 1
        posted.append(client.chat_postMessage(channel=SUPPORT, text=f"m{n}")["ts"])
    seen, cursor, pages = [], None, 0
    while True:
        page = client.conversations_history(channel=SUPPORT, limit=2, cursor=cursor)
        pages += 1
        seen += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert pages == 3 and seen == list(reversed(posted))
    window = client.conversations_history(channel=SUPPORT, oldest=posted[1], latest=posted[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]  # both ends exclusive
    window = client.conversations_history(channel=SUPPORT, oldest=posted[1], latest=posted[3],
                                          inclusive=True)
    assert [m["text"] for m in window["messages"]] == ["m3", "m2", "m1"]
    assert error_of(client.conversations_history, channel=QUIET) == "not_in_channel"


def test_metadata_is_read_back_only_when_asked(client: WebClient) -> None:
    metadata = {"event_type": "slabot_write", "event_payload": {"key": "card:1"}}
    client.chat_postMessage(channel=SUPPORT, text="card", metadata=metadata)
    assert "metadata" not in client.conversations_history(channel=SUPPORT)["messages"][0]
    read = client.conversations_history(channel=SUPPORT, include_all_metadata=True)
    assert read["messages"][0]["metadata"] == metadata


def test_replies_list_the_root_then_the_thread_oldest_first(
    client: WebClient, slack: FakeSlack
) -> None:
    root = slack.next_ts()
    slack.add_message(SUPPORT, root, RITA, "printer is on fire")
    client.chat_postMessage(channel=SUPPORT, thread_ts=root, text="card")
    slack.add_message(SUPPORT, slack.next_ts(), ALEX, "on it", thread_ts=root)
    replies = client.conversations_replies(channel=SUPPORT, ts=root)
    assert [m["text"] for m in replies["messages"]] == ["printer is on fire", "card", "on it"]
    first = client.conversations_replies(channel=SUPPORT, ts=root, limit=2)
    rest = client.conversations_replies(channel=SUPPORT, ts=root, limit=2,
                                        cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["on it"]
    assert rest["response_metadata"]["next_cursor"] == ""
    assert error_of(client.conversations_replies, channel=SUPPORT, ts="1.000001") == (
        "thread_not_found")


def test_members_page_through_next_cursor(client: WebClient) -> None:
    first = client.conversations_members(channel=SUPPORT, limit=2)
    rest = client.conversations_members(channel=SUPPORT, limit=2,
                                        cursor=first["response_metadata"]["next_cursor"])
    assert first["members"] + rest["members"] == [RITA, ALEX, BOT_USER_ID]
    assert rest["response_metadata"]["next_cursor"] == ""
    assert error_of(client.conversations_members, channel="C0NOWHERE") == "channel_not_found"


def test_info_says_whether_the_bot_is_a_member(client: WebClient) -> None:
    assert client.conversations_info(channel=SUPPORT)["channel"]["is_member"] is True
    assert client.conversations_info(channel=QUIET)["channel"]["is_member"] is False
    assert error_of(client.conversations_info, channel="C0NOWHERE") == "channel_not_found"


def test_open_gives_a_dm_the_bot_can_post_in(client: WebClient) -> None:
    dm = client.conversations_open(users=[RITA])["channel"]["id"]
    assert dm.startswith("D")
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True
    assert client.chat_postMessage(channel=dm, text="psst")["ok"]
    assert error_of(client.conversations_open, users="") == "users_list_not_supplied"
    assert error_of(client.conversations_open, users=["UNOBODY"]) == "user_not_found"


def test_users_info_knows_the_workspace_members_only(client: WebClient) -> None:
    assert client.users_info(user=RITA)["user"]["name"] == "rita"
    assert error_of(client.users_info, user="UNOBODY") == "user_not_found"


def test_reactions_are_stored_once_per_person(client: WebClient, slack: FakeSlack) -> None:
    ts = slack.next_ts()
    slack.add_message(SUPPORT, ts, RITA, "help")
    client.reactions_add(channel=SUPPORT, timestamp=ts, name="eyes")
    assert error_of(client.reactions_add, channel=SUPPORT, timestamp=ts, name="eyes") == (
        "already_reacted")
    assert slack.add_reaction(SUPPORT, ts, ALEX, "eyes") is None
    assert slack.thread(SUPPORT, ts)[0]["reactions"] == [
        {"name": "eyes", "users": [BOT_USER_ID, ALEX], "count": 2}]
    assert error_of(client.reactions_add, channel=SUPPORT, timestamp="1.000001",
                    name="eyes") == "message_not_found"


def test_views_publish_keeps_each_persons_home(client: WebClient, slack: FakeSlack) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    client.views_publish(user_id=RITA, view=view)
    assert slack.views[RITA] == view
    assert error_of(client.views_publish, user_id="UNOBODY", view=view) == "user_not_found"


def test_an_upload_is_shared_as_a_file_message(client: WebClient, slack: FakeSlack) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    client.files_upload_v2(channel=SUPPORT, content=png, filename="chart.png",
                           title="Compliance", initial_comment="This week")
    message = slack.channel_messages(SUPPORT)[-1]
    assert message["text"] == "This week"
    (shared,) = message["files"]
    assert shared["mimetype"] == "image/png" and shared["title"] == "Compliance"
    with urlopen(shared["url_private"]) as response:
        assert response.read() == png


def test_response_urls_answer_privately_unless_in_channel(slack: FakeSlack) -> None:
    slack.response_targets["cmd1"] = {"channel": SUPPORT, "user": RITA}
    for body in ({"text": "just you"}, {"text": "everyone", "response_type": "in_channel"}):
        request = Request(slack.response_url("cmd1"), data=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json"}, method="POST")
        with urlopen(request) as response:
            assert response.status == 200
    assert [(e["to"], e["text"]) for e in slack.ephemerals] == [(RITA, "just you")]
    assert [m["text"] for m in slack.channel_messages(SUPPORT)] == ["everyone"]


def test_people_who_show_the_workspace_hear_of_each_change(
    client: WebClient, slack: FakeSlack
) -> None:
    heard: list[tuple[str, str | None]] = []
    slack.on_change(lambda kind, channel: heard.append((kind, channel)))
    posted = client.chat_postMessage(channel=SUPPORT, text="hi")
    client.chat_update(channel=SUPPORT, ts=posted["ts"], text="hi!")
    assert heard == [("message", SUPPORT), ("update", SUPPORT)]


def test_permalinks_point_into_the_workspace(client: WebClient, slack: FakeSlack) -> None:
    posted = client.chat_postMessage(channel=SUPPORT, text="card")
    link = client.chat_getPermalink(channel=SUPPORT, message_ts=posted["ts"])["permalink"]
    assert link == f"{slack.workspace_url}archives/{SUPPORT}/p{posted['ts'].replace('.', '')}"
    assert error_of(client.chat_getPermalink, channel=SUPPORT, message_ts="1.000001") == (
        "message_not_found")
