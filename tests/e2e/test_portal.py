"""The portal end to end: Sign in with Slack against the fake, who sees what, share links,
and the pages' numbers equal `/sla report` and `/sla status` on a seeded history."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.manifest import build_manifest
from bot.sandbox.slack_api import TEAM_ID
from bot.views.formats import format_business
from tests.e2e.conftest import ADMIN, AGENT, CHANNEL, REQUESTER, build_bot, stop_bot
from tests.e2e.portal_helpers import (
    CLIENT_ID,
    OUTSIDER,
    PRIVATE,
    Browser,
    history_of,
    location,
    portal_bot,
    query_of,
    replay_history,
)
from tests.e2e.test_report_responders import responders_text
from tests.e2e.verbs_helpers import ask


@pytest.fixture
def pbot(db_url, engine, fake_slack, clock):
    """The bot with the portal on."""
    harness = portal_bot(db_url, engine, fake_slack, clock)
    try:
        yield harness
        harness.settle()
    finally:
        stop_bot(harness)


@pytest.fixture
def seeded(pbot, portal_history):
    """The portal bot with two weeks of history (``seed_history``, recorded once)."""
    replay_history(pbot, portal_history)
    return pbot


def test_a_replayed_history_is_what_seeding_makes(pbot, portal_history):
    """The harness' own check: the seeded tests see what ``seed_history`` would have made,
    and the bot goes on from there (new rows get new ids on PostgreSQL too)."""
    replay_history(pbot, portal_history)
    assert history_of(pbot) == portal_history
    tickets = portal_history.rows["tickets"]
    assert len(tickets) == 20 and sum(map(len, portal_history.rows.values())) > 100
    pbot.slack.message("one more request")
    pbot.settle()
    answer = ask(pbot, "ticket SLA-21", channel=CHANNEL)
    assert answer.text.startswith("SLA-21") and "one more request" in str(answer.blocks)


# -- sign-in ------------------------------------------------------------------------------------


def test_sign_in_with_slack_end_to_end(pbot):
    browser = Browser(pbot.url)
    assert "Sign in with Slack" in browser.text("/portal/")

    start = browser.request("/portal/auth/login")
    assert start.status == 303
    authorize = location(start)
    assert authorize.startswith(pbot.fake.base_url + "openid/connect/authorize?")
    params = query_of(authorize)
    assert params["scope"] == "openid profile" and params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID and params["team"] == TEAM_ID
    assert params["redirect_uri"] == pbot.url + "/portal/auth/callback"
    assert len(params["state"]) >= 24 and len(params["nonce"]) >= 24

    pbot.fake.sign_in_as(ADMIN, name="ada")
    back = browser.request(authorize)
    assert back.status == 302 and location(back).startswith(params["redirect_uri"])
    done = browser.request(location(back))
    assert done.status == 303 and location(done) == "/portal/"
    cookie = done.headers["set-cookie"]
    assert "slabot_portal=" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower() and "path=/portal" in cookie.lower()
    assert "max-age=" in cookie.lower()
    assert pbot.fake.calls("openid.connect.token") and pbot.fake.calls("openid.connect.userInfo")

    # An admin lands on the workspace overview, signed in by name.
    page = browser.text("/portal/")
    assert "All channels" in page and "ada" in page


def test_tampered_state_is_refused(pbot):
    browser = Browser(pbot.url)
    authorize = location(browser.request("/portal/auth/login"))
    pbot.fake.sign_in_as(ADMIN)
    callback = location(browser.request(authorize))
    forged = callback.replace("state=", "state=x")
    result = browser.request(forged)
    assert result.status == 400 and b"stale" in result.body
    assert not pbot.fake.calls("openid.connect.token")  # the code is never even exchanged
    after = browser.get("/portal/overview", follow=False)
    assert after.status == 303 and "/portal/auth/login" in location(after)


def test_callback_without_a_started_sign_in_is_refused(pbot):
    result = Browser(pbot.url).request("/portal/auth/callback?code=code-1&state=abc")
    assert result.status == 400 and b"Please sign in again" in result.body


def test_nonce_from_another_browser_is_refused(pbot):
    """A code obtained in browser A and replayed into browser B's sign-in fails."""
    first, second = Browser(pbot.url), Browser(pbot.url)
    pbot.fake.sign_in_as(ADMIN)
    authorize_a = location(first.request("/portal/auth/login"))
    authorize_b = location(second.request("/portal/auth/login"))
    code_a = query_of(location(first.request(authorize_a)))["code"]
    state_b = query_of(authorize_b)["state"]
    result = second.request(f"/portal/auth/callback?code={code_a}&state={state_b}")
    assert result.status == 400 and b"did not match this browser" in result.body


def test_user_from_another_workspace_is_refused(pbot):
    browser = Browser(pbot.url)
    page = browser.sign_in(pbot.fake, ADMIN, team_id="T0OTHER")
    assert page.status == 400 and b"another Slack workspace" in page.body
    assert b"Sign in with Slack" in browser.get("/portal/overview").body


def test_session_expires_after_eight_hours(pbot):
    browser = Browser(pbot.url)
    assert browser.sign_in(pbot.fake, ADMIN).status == 200
    assert "All channels" in browser.text("/portal/overview")
    pbot.clock.advance(timedelta(hours=8, minutes=1))
    after = browser.get("/portal/overview", follow=False)
    assert after.status == 303 and "/portal/auth/login" in location(after)


def test_sign_out_ends_the_session(pbot):
    browser = Browser(pbot.url)
    browser.sign_in(pbot.fake, ADMIN)
    assert browser.request("/portal/auth/logout", method="POST").status == 303
    assert browser.get("/portal/overview", follow=False).status == 303


def test_portal_off_says_how_to_turn_it_on(db_url, engine, fake_slack, clock):
    harness = build_bot(db_url, engine, fake_slack, clock)
    try:
        page = harness.get("/portal")
        assert page.status == 200
        for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLABOT_PUBLIC_URL",
                     "SLABOT_SESSION_SECRET"):
            assert name.encode() in page.body
        assert harness.get("/portal/overview").status == 200
        assert b"portal is off" in harness.get("/portal/overview").body
    finally:
        stop_bot(harness)


def test_manifest_lists_the_sign_in_redirect_url():
    manifest = build_manifest("https://slabot.example.com/")
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://slabot.example.com/portal/auth/callback"]


def test_settings_name_every_missing_portal_variable():
    from bot.config import SettingsError

    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                           "SLACK_CLIENT_ID": "1.2", "SLABOT_PUBLIC_URL": "http://example.com"})
    message = str(error.value)
    assert "SLACK_CLIENT_SECRET" in message and "SLABOT_SESSION_SECRET" in message
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert settings.portal is None
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                           "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c",
                           "SLABOT_PUBLIC_URL": "http://example.com",
                           "SLABOT_SESSION_SECRET": "x" * 40})


# -- who sees what -----------------------------------------------------------------------------


def test_member_sees_only_their_channels(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, REQUESTER, name="rita")
    home = browser.text("/portal/")
    assert "#support" in home and "secret-escalations" not in home and PRIVATE not in home
    channel = browser.text(f"/portal/c/{CHANNEL}")
    assert "printer on fire" in channel or "SLA-" in channel
    assert "secret merger" not in channel

    # By URL id, by CSV, by ticket key, by the workspace overview: nothing.
    assert browser.get(f"/portal/c/{PRIVATE}").status == 404
    assert browser.get(f"/portal/c/{PRIVATE}.csv").status == 404
    assert browser.get("/portal/overview").status == 404
    assert browser.get("/portal/overview.csv").status == 404
    private_key = _a_ticket_key(seeded, PRIVATE)
    assert browser.get(f"/portal/t/{private_key}").status == 404
    assert browser.get(f"/portal/t/{private_key}.csv").status == 404
    rows = _csv(browser.get(f"/portal/c/{CHANNEL}.csv?period=90d").body)
    assert rows and {r["channel"] for r in rows} == {CHANNEL}
    responders = browser.get("/portal/responders.csv?period=90d").body.decode()
    assert PRIVATE not in responders


def test_outsider_sees_no_channel(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, OUTSIDER, name="olga")
    assert "not a member of any channel" in browser.text("/portal/")
    assert browser.get(f"/portal/c/{CHANNEL}").status == 404


def test_responders_show_a_member_only_their_own_row(seeded):
    agent = Browser(seeded.url)
    agent.sign_in(seeded.fake, AGENT)
    page = agent.text("/portal/responders?period=90d")
    assert f'data-user="{AGENT}"' in page
    admin = Browser(seeded.url)
    admin.sign_in(seeded.fake, ADMIN)
    requester = Browser(seeded.url)
    requester.sign_in(seeded.fake, REQUESTER)
    assert f'data-user="{AGENT}"' not in requester.text("/portal/responders?period=90d")
    assert f'data-user="{AGENT}"' in admin.text("/portal/responders?period=90d")


# -- numbers equal the verbs' -------------------------------------------------------------------


@pytest.mark.parametrize("period", ["7d", "30d", "2026-11"])
def test_page_numbers_equal_sla_report_and_status(seeded, period):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    page = browser.text(f"/portal/c/{CHANNEL}?period={period}")
    report = ask(seeded, f"report {period}", channel=CHANNEL)
    shown = dict(re.findall(r'data-metric="(\w+)">([^<]+)<', page))
    assert shown, page
    for metric, value in shown.items():
        label = metric.replace("_", " ").capitalize()
        assert f"{label}" in report.everything
        assert value in report.everything, (metric, value, report.everything)
    if period != "2026-11":
        status = ask(seeded, f"status {period}", channel=CHANNEL)
        counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
        assert f"{counts['open']} open" in status.everything or (
            f"*{counts['open']}*" in status.everything), status.everything
        for value in shown.values():
            assert value in status.everything


def test_csv_equals_sla_report_csv(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    ask(seeded, "report 30d csv", channel=CHANNEL)
    uploaded = list(seeded.fake.uploads.values())[-1].decode()
    downloaded = browser.get(f"/portal/c/{CHANNEL}.csv?period=30d")
    assert downloaded.status == 200
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert "attachment" in downloaded.headers["content-disposition"]
    assert downloaded.body.decode() == uploaded


def test_ticket_page_shows_timeline_and_due_times(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, REQUESTER)
    key = _a_ticket_key(seeded, CHANNEL)
    page = browser.text(f"/portal/t/{key}")
    assert key in page and "created" in page and "responded" in page
    assert "First response" in page and "Resolution" in page


# -- customer share links -----------------------------------------------------------------------


def test_share_link_opens_one_channel_read_only_until_revoked(seeded):
    answer = ask(seeded, f"portal share <#{CHANNEL}|support> expires=30d", channel=CHANNEL)
    assert answer.private
    url = re.search(r"(http://\S+/portal/s/\S+)", answer.text).group(1)
    path = url[len(seeded.url):]
    token = path.rsplit("/", 1)[-1]
    customer = Browser(seeded.url)  # never signed in
    page = customer.text(path)
    assert "#support" in page and "Met %" in page and "Service credit" in page
    assert "printer on fire" not in page  # details=off: no ticket titles
    assert "<svg" in page and "Sign out" not in page
    assert customer.get(path + ".csv").status == 200
    assert customer.get(f"/portal/c/{PRIVATE}", follow=False).status == 303  # sign in first

    # The token is never stored or logged in clear.
    from sqlmodel import select

    from storage.db import unit_of_work
    from storage.models import ShareLink

    with unit_of_work(seeded.deps.engine) as session:
        stored = session.exec(select(ShareLink)).all()
    assert stored and all(token not in (row.token_sha256 or "") for row in stored)

    number = _link_number(answer)
    links = ask(seeded, "portal links", channel=CHANNEL)
    assert f"{number}." in links.text and "live until" in links.text
    assert token not in links.text and "revoked" not in links.text
    assert "is ended" in ask(seeded, f"portal revoke {number}", channel=CHANNEL).text
    assert customer.get(path).status == 404
    assert customer.get(path + ".csv").status == 404
    assert "revoked" in ask(seeded, "portal links", channel=CHANNEL).text


def test_share_link_with_details_shows_titles_and_expires(seeded):
    answer = ask(seeded, f"portal share <#{CHANNEL}|support> expires=2d details=on",
                 channel=CHANNEL)
    path = "/portal/s/" + re.search(r"/portal/s/(\S+)", answer.text).group(1)
    customer = Browser(seeded.url)
    assert "printer on fire" in customer.text(path + "?period=90d")
    seeded.clock.advance(timedelta(days=2, seconds=1))
    assert customer.get(path).status == 404
    assert customer.get("/portal/s/not-a-real-token").status == 404


def test_share_verbs_are_for_admins(seeded):
    answer = ask(seeded, f"portal share <#{CHANNEL}|support>", user=REQUESTER)
    assert "only workspace admins" in answer.text
    assert "/portal/s/" not in answer.text


# -- helpers ------------------------------------------------------------------------------------


def _link_number(answer) -> int:
    return int(re.search(r"Link (\d+) to", answer.text).group(1))


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def _a_ticket_key(bot, channel: str) -> str:
    from sqlmodel import select

    from storage.db import unit_of_work
    from storage.models import Ticket

    with unit_of_work(bot.deps.engine) as session:
        return session.exec(select(Ticket.key).where(Ticket.channel_id == channel)).first()


@pytest.mark.parametrize("period", ["7d", "90d"])
def test_overview_numbers_equal_sla_report_all_and_status_all(seeded, period):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    page = browser.text(f"/portal/overview?period={period}")
    report = ask(seeded, f"report {period} all", channel=CHANNEL)
    status = ask(seeded, f"status {period} all", channel=CHANNEL)
    shown = dict(re.findall(r'data-metric="(\w+)">([^<]+)<', page))
    assert shown
    for value in shown.values():
        assert value in report.everything and value in status.everything
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert f"{counts['open']} open" in status.everything or (
        f"*{counts['open']}*" in status.everything), status.everything
    # Both channels are ranked, the one with more misses first.
    ranked = re.findall(r'href="/portal/c/(C\w+)\?', page)
    assert set(ranked) == {CHANNEL, PRIVATE}


def _page_responders(browser: Browser) -> dict[str, tuple[str, ...]]:
    """The responders table of the page: user id -> (first responses, median, resolved,
    breaches while assigned)."""
    page = browser.text("/portal/responders?period=90d")
    return {user: tuple(re.findall(r"<td>([^<]*)</td>", cells))
            for user, cells in re.findall(r'data-user="(\w+)">(.*?)</tr>', page, re.S)}


def _report_responders(answer) -> dict[str, tuple[str, ...]]:
    """The responders lines of `/sla report`, read the same way."""
    found = {}
    for user, first, median, resolved, breaches in re.findall(
            r"<@(\w+)> · (\d+) first responses?(?:, median ([^·]+?))? · (\d+) resolved · "
            r"(\d+) breach", responders_text(answer)):
        found[user] = (first, median or "n/a", resolved, breaches)
    return found


def test_responders_page_shows_the_numbers_of_sla_report(seeded):
    """One calculation: every row of the page is the row `/sla report` shows."""
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    shown = _page_responders(browser)
    assert "alex" in browser.text("/portal/responders?period=90d")  # names from users.info
    first_responses, _median, resolved, breaches = shown[AGENT]
    assert first_responses == "20" and resolved == "18"  # every seeded ticket, both channels
    # Late resolutions breach while the agent has the ticket (late first answers do not:
    # nobody had it before the agent answered).
    assert int(breaches) > 0
    assert shown == _report_responders(ask(seeded, "report 90d all", channel=CHANNEL))


def test_the_responders_csv_is_the_table_a_person_may_see(seeded):
    admin = Browser(seeded.url)
    admin.sign_in(seeded.fake, ADMIN)
    table = _page_responders(admin)
    rows = _csv(admin.get("/portal/responders.csv?period=90d").body)
    assert {r["user_id"]: (r["first_responses"], r["resolved"], r["breaches_while_assigned"])
            for r in rows} == {user: (first, resolved, breaches)
                               for user, (first, _median, resolved, breaches) in table.items()}
    agent_row = next(r for r in rows if r["user_id"] == AGENT)
    assert agent_row["person"] == "alex"
    median = timedelta(seconds=int(agent_row["median_first_response_business_seconds"]))
    assert format_business(median) == table[AGENT][1]
    member = Browser(seeded.url)
    member.sign_in(seeded.fake, AGENT)
    assert [r["user_id"] for r in _csv(
        member.get("/portal/responders.csv?period=90d").body)] == [AGENT]
    requester = Browser(seeded.url)
    requester.sign_in(seeded.fake, REQUESTER)
    assert _csv(requester.get("/portal/responders.csv?period=90d").body) == []


def test_share_link_without_details_hides_thread_links_in_csv(seeded):
    answer = ask(seeded, f"portal share <#{CHANNEL}|support>", channel=CHANNEL)
    path = "/portal/s/" + re.search(r"/portal/s/(\S+)", answer.text).group(1)
    rows = _csv(Browser(seeded.url).get(path + ".csv?period=90d").body)
    assert rows and all(r["link"] == "" for r in rows)
    member = Browser(seeded.url)
    member.sign_in(seeded.fake, REQUESTER)
    inside = _csv(member.get(f"/portal/c/{CHANNEL}.csv?period=90d").body)
    assert all(r["link"].startswith("https://fake.slack.test/archives/") for r in inside)
    assert "https://fake.slack.test/archives/" in member.text(f"/portal/c/{CHANNEL}?period=90d")
    assert {r["channel"] for r in rows} == {CHANNEL}


# -- hostile text, redirects, headers, Slack down -----------------------------------------------


def test_hostile_titles_and_channel_names_are_shown_as_text(pbot):
    pbot.deps.notifier.learn_workspace_url()
    hostile = '<img src=x onerror="alert(1)">'
    pbot.fake.add_channel(CHANNEL, name=hostile, members=[REQUESTER, AGENT, ADMIN])
    ask(pbot, "track", channel=CHANNEL)
    pbot.slack.message("urgent <script>alert('pwned')</script>")
    pbot.settle()
    pbot.clock.advance(timedelta(hours=3))
    pbot.settle()
    answer = ask(pbot, f"portal share <#{CHANNEL}> details=on", channel=CHANNEL)
    path = "/portal/s/" + re.search(r"/portal/s/(\S+)", answer.text).group(1)
    page = Browser(pbot.url).text(path + "?period=7d")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x" in page  # the channel name, as text
    assert "&lt;script&gt;" in page  # the breached ticket's title, as text


def test_sign_in_never_redirects_to_another_site(pbot):
    browser = Browser(pbot.url)
    pbot.fake.sign_in_as(ADMIN)
    start = browser.request("/portal/auth/login?next=https://evil.example/steal")
    back = browser.request(location(start))
    done = browser.request(location(back))
    assert done.status == 303 and location(done) == "/portal/"
    start = browser.request("/portal/auth/login?next=//evil.example/")
    done = browser.request(location(browser.request(location(start))))
    assert location(done) == "/portal/"


def test_pages_forbid_scripts_framing_and_referrers(seeded):
    answer = ask(seeded, f"portal share <#{CHANNEL}>", channel=CHANNEL)
    path = "/portal/s/" + re.search(r"/portal/s/(\S+)", answer.text).group(1)
    result = Browser(seeded.url).get(path)
    headers = {k.lower(): v for k, v in result.headers.items()}
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"  # the token never leaves in a Referer
    assert headers["cache-control"] == "no-store"
    assert b"<script" not in result.body


def test_slack_down_is_a_clear_503(pbot):
    pbot.fake.fail("auth.test", status=500, times=5)
    result = Browser(pbot.url).get("/portal/auth/login", follow=False)
    assert result.status == 503 and b"Slack is not answering" in result.body
    pbot.fake.heal("auth.test")
    assert Browser(pbot.url).get("/portal/auth/login", follow=False).status == 303


def test_unknown_channel_is_not_found_even_for_admins(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    assert browser.get("/portal/c/C0NOSUCH").status == 404
    assert browser.get("/portal/c/C0NOSUCH.csv").status == 404
    assert browser.get("/portal/t/SLA-99999").status == 404


def test_share_tokens_never_reach_the_logs(seeded, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        answer = ask(seeded, f"portal share <#{CHANNEL}>", channel=CHANNEL)
        token = re.search(r"/portal/s/(\S+)", answer.text).group(1)
        customer = Browser(seeded.url)
        assert customer.get(f"/portal/s/{token}").status == 200
        assert "is ended" in ask(seeded, f"portal revoke {_link_number(answer)}",
                                 channel=CHANNEL).text
        assert customer.get(f"/portal/s/{token}").status == 404
    leaked = [(r.name, r.levelname) for r in caplog.records if token in r.getMessage()]
    assert leaked == []


def test_a_bad_period_is_a_400_that_says_why(seeded):
    browser = Browser(seeded.url)
    browser.sign_in(seeded.fake, ADMIN)
    result = browser.get("/portal/overview?period=1999d")
    assert result.status == 400 and b"1d to 366d" in result.body
    assert browser.get("/portal/overview?period=2026-13").status == 400
