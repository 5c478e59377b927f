"""`/sla report` end to end: tickets made through the bot, the report and its CSV upload."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from bot.views.blocks import check_block_kit_limits
from sla.clock import compute_clock
from sla.compliance import outcomes_from_clock, summarize
from sla.targets import CreditTier, Priority
from storage.db import unit_of_work
from storage.models import Ticket
from storage.repositories.ticket_events import load_clock_events
from storage.repositories.workspaces import get_or_create_workspace, get_policy, save_policy
from tests.e2e.conftest import ADMIN, AGENT, CHANNEL, REQUESTER
from tests.e2e.verbs_helpers import ask

OTHER = "C0OTHER"


def _week_of_tickets(bot):
    """Three tickets in #support (Monday, business hours 09-17 UTC) and one elsewhere."""
    ask(bot, "track P2")
    bot.fake.add_channel(OTHER, name="other", members=[REQUESTER, AGENT, ADMIN])
    ask(bot, "track P2", channel=OTHER)
    first, _ = bot.slack.message("Checkout shows a 500")  # SLA-1, 10:00
    bot.settle()
    bot.clock.advance(timedelta(minutes=20))
    bot.slack.message("On it", user=AGENT, thread_ts=first)  # 20m: met
    bot.settle()
    bot.clock.advance(timedelta(hours=1))
    ask(bot, "resolve SLA-1", user=AGENT)  # 1h 20m: met
    second, _ = bot.slack.message("urgent: outage, nobody can log in")  # SLA-2, P1 at 11:20
    bot.settle()
    bot.clock.advance(timedelta(minutes=30))
    bot.slack.message("Looking", user=AGENT, thread_ts=second)  # 30m against 15m: breached
    bot.settle()
    bot.slack.message("How do I export invoices?")  # SLA-3 at 11:50, never answered
    bot.settle()  # numbered in order: concurrent listeners could swap SLA-3 and SLA-4
    bot.slack.message("Printer on fire", channel=OTHER)  # SLA-4, another channel
    bot.settle()
    bot.clock.advance(timedelta(hours=22, minutes=10))  # Tuesday 10:00


def _expected(bot, days, channel=CHANNEL):
    now = bot.clock.now()
    outcomes = []
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        for row in session.exec(select(Ticket).where(Ticket.channel_id == channel)):
            policy = get_policy(session=session, workspace_id=workspace.id, channel_id=channel)
            clock = compute_clock(load_clock_events(session=session, ticket_id=row.id), policy,
                                  now)
            outcomes += outcomes_from_clock(row.key, row.channel_id, Priority(row.priority),
                                            row.assignee_id, clock)
    return summarize(outcomes, now - timedelta(days=days), now, now)


def test_report_shows_this_channels_compliance_as_sla_compliance_counts_it(bot):
    _week_of_tickets(bot)
    answer = ask(bot, "report 7d", user=AGENT)

    assert answer.private
    check_block_kit_limits(answer.blocks)
    expected = _expected(bot, 7)
    first = expected.metrics["first_response"]
    resolution = expected.metrics["resolution"]
    # First response: SLA-1 met; SLA-2 late; SLA-3 still unanswered a day later.
    assert (first.met, first.breached) == (1, 2)
    # Resolution: SLA-1 met; SLA-2 (P1, 4h) running past due; SLA-3 at 6h10m of 8h.
    assert (resolution.met, resolution.breached) == (1, 1)
    text = answer.everything
    assert "*All priorities · First response*\\n33.3% · 1 met, 2 breached" in text
    assert "*All priorities · Resolution*\\n50% · 1 met, 1 breached" in text
    assert "*P1 · First response* (target 15m)\\n0% · 0 met, 1 breached" in text
    assert "3 tickets" in text  # SLA-4 lives in another channel
    assert "SLA-4" not in text and OTHER not in text
    assert "*Worst breaches*" in text and "SLA-2" in text and "SLA-3" in text


def test_report_csv_goes_through_the_external_upload_flow_to_the_users_dm(bot):
    _week_of_tickets(bot)
    answer = ask(bot, "report 7d csv", user=AGENT)

    assert "CSV of 3 tickets sent to you in a direct message" in answer.everything
    [get_url] = bot.fake.calls("files.getUploadURLExternal")
    [upload] = bot.fake.calls("file_upload")
    [complete] = bot.fake.calls("files.completeUploadExternal")
    assert get_url.params["filename"].startswith("sla-report-last-7-days")
    assert complete.params["channel_id"] == "D" + AGENT.lstrip("U")
    rows = list(csv.DictReader(io.StringIO(upload.body.decode())))
    assert [r["ticket"] for r in rows] == ["SLA-1", "SLA-2", "SLA-3"]
    by_key = {r["ticket"]: r for r in rows}
    assert by_key["SLA-1"]["first_response"] == "met"
    assert by_key["SLA-1"]["first_response_business_seconds"] == "1200"
    assert by_key["SLA-1"]["resolution"] == "met"
    assert by_key["SLA-2"]["priority"] == "P1"
    assert by_key["SLA-2"]["first_response"] == "breached"
    assert by_key["SLA-3"]["first_response"] == "breached"
    assert by_key["SLA-3"]["resolved_at"] == ""


def test_report_states_the_credit_owed_by_the_channel_policy(bot):
    _week_of_tickets(bot)
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        policy = get_policy(session=session, workspace_id=workspace.id, channel_id=CHANNEL)
        tiers = (CreditTier(95.0, 5.0), CreditTier(90.0, 10.0))
        save_policy(session=session, workspace_id=workspace.id, channel_id=CHANNEL,
                    policy=_with_tiers(policy, tiers))
    text = ask(bot, "report 7d", user=AGENT).everything
    assert "*Service credit*: 10% owed: resolution compliance 50% is below 90%." in text


def test_credit_tiers_set_in_slack_reach_the_report(bot):
    _week_of_tickets(bot)
    assert "10% credit" in ask(bot, "policy credits 95%=5% 90%=10%", user=ADMIN).text
    text = ask(bot, "report 7d", user=AGENT).everything
    assert "*Service credit*: 10% owed: resolution compliance 50% is below 90%." in text


def _with_tiers(policy, tiers):
    from dataclasses import replace

    return replace(policy, credit_tiers=tiers)


def test_whole_workspace_report_is_for_admins(bot):
    _week_of_tickets(bot)
    refused = ask(bot, "report 30d all", user=AGENT)
    assert refused.private and "only workspace admins" in refused.text
    allowed = ask(bot, "report 30d all", user=ADMIN)
    assert "all channels" in allowed.everything and "4 tickets" in allowed.everything


def test_bad_period_says_how_to_write_it(bot):
    answer = ask(bot, "report last-month", user=AGENT)
    assert answer.private
    assert "period must be 7d, 30d, 90d or a month like 2026-10" in answer.text
    assert "/sla report [7d|30d|90d|YYYY-MM] [csv] [all]" in answer.text


def test_month_report_with_no_tickets_says_so(bot):
    ask(bot, "track P2")
    answer = ask(bot, "report 2026-09", user=AGENT)
    assert "No SLA tickets in <#C0SUPPORT> for September 2026." in answer.everything


def test_report_csv_of_an_empty_period_sends_no_empty_file(bot):
    answer = ask(bot, "report 7d csv", user=AGENT)
    assert "No tickets in this period, so no CSV." in answer.everything
    assert bot.fake.calls("files.getUploadURLExternal") == []
    assert bot.fake.calls("conversations.open") == []
