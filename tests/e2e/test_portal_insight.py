"""The portal's explain and forecast pages: the same ledger as `/sla explain`, the same
forecast as `/sla status` (further ahead), and the portal's access rules."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from commands.explain import ticket_ledger
from commands.forecasts import channel_forecast
from storage.db import unit_of_work
from storage.models import Ticket
from tests.e2e.conftest import ADMIN, CHANNEL, REQUESTER, stop_bot
from tests.e2e.portal_helpers import (
    OUTSIDER,
    PRIVATE,
    Browser,
    location,
    portal_bot,
    replay_history,
)
from tests.e2e.verbs_helpers import ask


@pytest.fixture
def seeded(db_url, engine, fake_slack, clock, portal_history):
    harness = portal_bot(db_url, engine, fake_slack, clock)
    try:
        replay_history(harness, portal_history)
        yield harness
        harness.settle()
    finally:
        stop_bot(harness)


def _first_key(bot, channel: str) -> str:
    with unit_of_work(bot.deps.engine) as session:
        return session.exec(select(Ticket.key).where(Ticket.channel_id == channel)
                            .order_by(Ticket.number)).first()


def _signed_in(bot, user: str) -> Browser:
    browser = Browser(bot.url)
    browser.sign_in(bot.fake, user)
    return browser


def test_the_explain_page_shows_the_ledger_of_sla_explain(seeded):
    key = _first_key(seeded, CHANNEL)  # answered after 2h against a 1h first response
    page = _signed_in(seeded, REQUESTER).text(f"/portal/t/{key}")
    assert f'href="/portal/t/{key}/explain"' in page
    page = _signed_in(seeded, REQUESTER).text(f"/portal/t/{key}/explain")
    found = ticket_ledger(seeded.deps, team_id=TEAM_ID, key=key)
    assert found.ledger.state == "breached"
    assert html.escape(found.ledger.verdict) in page
    answer = ask(seeded, f"explain {key}", channel=CHANNEL)
    counted_here = re.findall(r'data-metric="(\w+)">.*?counted <strong>([^<]+)</strong>', page)
    counted_there = re.findall(r"\*(First response|Resolution)\*.*?counted ([^,\n]+)",
                               answer.text)
    assert [c for _, c in counted_here] == [c for _, c in counted_there]
    assert dict(counted_here)["first_response"] == "2h"
    assert "cause: answered late in business hours" in page
    assert 'data-testid="segments"' in page


def test_the_explain_page_keeps_to_the_channels_a_person_may_see(seeded):
    private_key = _first_key(seeded, PRIVATE)
    assert _signed_in(seeded, REQUESTER).get(f"/portal/t/{private_key}/explain").status == 404
    assert _signed_in(seeded, OUTSIDER).get(
        f"/portal/t/{_first_key(seeded, CHANNEL)}/explain").status == 404
    assert _signed_in(seeded, REQUESTER).get("/portal/t/SLA-999/explain").status == 404
    assert _signed_in(seeded, ADMIN).get(f"/portal/t/{private_key}/explain").status == 200
    anonymous = Browser(seeded.url).get(f"/portal/t/{private_key}/explain", follow=False)
    assert anonymous.status == 303 and "/portal/auth/login" in location(anonymous)


def test_the_forecast_page_names_the_waiting_tickets_likely_to_breach(seeded):
    for n in range(3):
        seeded.slack.message(f"new problem {n}", channel=CHANNEL)
        seeded.settle()
        seeded.clock.advance(timedelta(minutes=1))
    browser = _signed_in(seeded, REQUESTER)
    assert f'href="/portal/c/{CHANNEL}/forecast?period=30d"' in browser.text(
        f"/portal/c/{CHANNEL}")
    page = browser.text(f"/portal/c/{CHANNEL}/forecast")
    expected = channel_forecast(seeded.deps, team_id=TEAM_ID, channel_id=CHANNEL).forecast
    # Ten answers in two weeks cannot reach three requests due within the hour.
    assert [e.key for e in expected.likely] == ["SLA-21", "SLA-22", "SLA-23"]
    assert 'data-testid="likely">3<' in page
    assert "Likely to breach in the next 24 business hours (estimate)" in page
    assert html.escape(expected.method) in page
    for key in ("SLA-21", "SLA-22", "SLA-23"):
        assert f'href="/portal/t/{key}"' in page


def test_the_forecast_page_keeps_to_the_channels_a_person_may_see(seeded):
    assert _signed_in(seeded, REQUESTER).get(f"/portal/c/{PRIVATE}/forecast").status == 404
    assert _signed_in(seeded, OUTSIDER).get(f"/portal/c/{CHANNEL}/forecast").status == 404
    assert _signed_in(seeded, ADMIN).get(f"/portal/c/{PRIVATE}/forecast").status == 200
    # A channel with no SLA data is no page at all, even for an admin.
    assert _signed_in(seeded, ADMIN).get("/portal/c/C0NOTHING/forecast").status == 404
