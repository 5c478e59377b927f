"""`/sla simulate` end to end: the current policy gives the report's numbers, a proposal
moves them, nothing is saved, and a channel only ever replays its own tickets.

The clock starts Monday 2026-11-23 10:00 UTC; the stock policy runs Mon-Fri 09:00-17:00 UTC
(P3: first response 4h, resolution 24h).
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.sandbox.slack_api import TEAM_ID
from commands.report import compliance_report
from sla.periods import parse_period
from storage.db import unit_of_work
from storage.repositories.workspaces import get_or_create_workspace
from tests.e2e.conftest import AGENT, REQUESTER
from tests.e2e.verbs_helpers import ask, policy_of

OTHER = "C0OTHER"


def busy_week(bot) -> None:
    """Six P3 tickets: answered after 1h..6h (two breach first response), three resolved."""
    ask(bot, "track")
    roots = []
    for n in range(6):
        root, _ = bot.slack.message(f"Problem number {n}")
        bot.settle()
        roots.append(root)
    for n, root in enumerate(roots):
        bot.clock.advance(timedelta(hours=1))
        bot.slack.message("On it", user=AGENT, thread_ts=root)
        bot.settle()
        if n % 2 == 0:
            ask(bot, f"resolve SLA-{n + 1}", user=AGENT)
    bot.clock.advance(timedelta(days=2))


def test_simulating_the_current_policy_gives_the_reports_numbers(bot):
    busy_week(bot)
    answer = ask(bot, "simulate 7d", user=REQUESTER)
    assert answer.private
    assert "Proposed: the current policy" in answer.text
    now = bot.clock.now()
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        period = parse_period("7d", tz=workspace.tz, now=now)
        data = compliance_report(session, workspace_id=workspace.id,
                                    channel_id="C0SUPPORT", period=period, now=now,
                                    tz=workspace.tz, scope="here")
    first = next(r for r in data.totals if r.metric == "first_response")
    assert (first.met, first.breached) == (4, 2)  # answered after 1h..4h met, 5h and 6h not
    assert re.search(rf"first response met +66.7% \({first.met}/{first.met + first.breached}\) "
                     rf"+66.7% \({first.met}/{first.met + first.breached}\)", answer.text)
    resolution = next(r for r in data.totals if r.metric == "resolution")
    assert f"({resolution.met}/{resolution.met + resolution.breached})" in answer.text


def test_a_looser_first_response_target_is_shown_next_to_the_actual(bot):
    busy_week(bot)
    before = policy_of(bot)
    answer = ask(bot, "simulate P3 first-response=6h 7d")
    assert "P3 first response 4h → 6h" in answer.text
    assert "66.7% (4/6)" in answer.text and "100% (6/6)" in answer.text
    assert "Tightest targets that keep 95%" in answer.text
    assert "P3 first response 6h (now 4h)" in answer.text  # answered after 6h at worst
    assert policy_of(bot) == before  # nothing saved


def test_hours_and_nudges_can_be_simulated_too(bot):
    busy_week(bot)
    answer = ask(bot, "simulate hours 24x7 nudges 50% re-escalate=1h 30d")
    assert "hours Mon-Fri 09:00-17:00 (UTC) → 24x7 (UTC)" in answer.text
    assert "nudges 50% 80%" in answer.text and "50%, re-escalate 1h" in answer.text


def test_another_channel_replays_only_its_own_tickets(bot):
    busy_week(bot)
    answer = ask(bot, "simulate P3 first-response=6h", user=AGENT, channel=OTHER)
    assert "(0 tickets; nothing is saved)" in answer.text


def test_bad_simulations_say_what_is_wrong(bot):
    assert "not a target" in ask(bot, "simulate P1 speed=5m").text
    assert "month must be 01 to 12" in ask(bot, "simulate 2026-13").text
    answer = ask(bot, "simulate P1 first-response=5h resolution=1h")
    assert "cannot be shorter" in answer.text and "Usage:" in answer.text
    assert "did not expect" in ask(bot, "simulate banana").text
    assert "not a time zone" in ask(bot, "simulate hours tz=Mars/Base").text
    assert "give the hours to simulate" in ask(bot, "simulate hours 30d").text
