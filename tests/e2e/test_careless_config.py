"""Careless configuration is refused with the rule that was broken, and nothing changes."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.verbs_helpers import ask, policy_of


def test_reescalation_below_fifteen_minutes_is_refused_with_the_floor(bot):
    before = policy_of(bot)
    answer = ask(bot, "policy nudges 50% 80% re-escalate=1s")
    assert answer.private
    assert "re-escalate must be at least 15m" in answer.text
    assert "/sla policy nudges" in answer.text
    assert policy_of(bot) == before
    assert ask(bot, "policy nudges re-escalate=15m").text.startswith(":white_check_mark:")
    assert policy_of(bot).reescalate_every == timedelta(minutes=15)


def test_resolution_shorter_than_first_response_is_refused(bot):
    before = policy_of(bot)
    answer = ask(bot, "policy set P1 resolution=1m first-response=1h")
    assert answer.private
    assert "the resolution target (1m) cannot be shorter than the first response target (1h)" \
        in answer.text
    assert policy_of(bot) == before
    assert ask(bot, "policy set P1 first-response=5h resolution=8h").text.startswith(
        ":white_check_mark:")
