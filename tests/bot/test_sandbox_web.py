"""The sandbox page's mrkdwn: what a person typed shows as text; the bot's markup as Slack
renders it (bold, italics, code, quotes, mentions, links)."""

from __future__ import annotations

from bot.sandbox.botlink import slack_signature
from bot.sandbox.mrkdwn import Mrkdwn, emoji
from tests.hostile_text import HOSTILE_AS_SLACK_SENDS

render = Mrkdwn({"U0RITA": "rita"}, {"C0SUPPORT": "support"}, lambda c: f"/?c={c}")


def test_typed_markup_is_shown_as_text_never_run() -> None:
    html = render(HOSTILE_AS_SLACK_SENDS + " <script>alert(1)</script>".replace(
        "<", "&lt;").replace(">", "&gt;"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<a " not in html and "&lt;!channel&gt;" in html  # no ping, no link


def test_the_bots_markup_renders_like_slack() -> None:
    html = render("*SLA-7* for <@U0RITA> in *<#C0SUPPORT>*: _due_ `soon`\n>quoted *text*")
    assert "<b>SLA-7</b>" in html
    assert '<span class="mention">@rita</span>' in html
    assert '<b><a class="mention" href="/?c=C0SUPPORT">#support</a></b>' in html
    assert "<i>due</i>" in html and "<code>soon</code>" in html
    assert "<blockquote>quoted <b>text</b></blockquote>" in html


def test_only_web_links_become_links() -> None:
    html = render("<https://example.test/a?b=1&amp;c=2|the report> <javascript:alert(1)|x>")
    assert '<a href="https://example.test/a?b=1&amp;c=2" target="_blank"' in html
    assert "javascript" in html and 'href="javascript' not in html


def test_known_emoji_become_characters() -> None:
    assert emoji(":white_check_mark: :no_such_emoji:") == "✅ :no_such_emoji:"


def test_requests_are_signed_as_slack_signs_them() -> None:
    # Slack's documented example: v0:timestamp:body, HMAC-SHA256 with the signing secret.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
            b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
            b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
            b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
            b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    assert slack_signature(secret, "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
