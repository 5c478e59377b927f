"""Specification of the `/sla` router and help: every verb reachable, documented, and polite."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError

from commands.errors import NotFound, UsageError
from commands.permissions import is_admin
from commands.request import Message, Verb, VerbRequest
from commands.router import Router, default_router

WHERE = {"team_id": "T1", "channel_id": "C1", "user_id": "U1"}


def _echo(request: VerbRequest) -> Message:
    words = " ".join(request.args)
    return Message(f"echo {words} from {request.user_id} in {request.channel_id}")


def _needs_a_number(request: VerbRequest) -> Message:
    raise UsageError("give me a number")


def _missing(request: VerbRequest) -> Message:
    raise NotFound("SLA-9 is not a ticket in this channel")


def _private(request: VerbRequest) -> Message:
    return Message("only you", public=False)


def _router() -> Router:
    return Router([
        Verb("echo", ("/sla echo <words>",), "say it back", _echo, aliases=("say",)),
        Verb("count", ("/sla count <n>",), "count", _needs_a_number),
        Verb("find", ("/sla find SLA-1",), "find", _missing),
        Verb("secret", ("/sla secret",), "private", _private),
        Verb("note", ("/sla note <text>",), "free text", _echo, free_text=True),
    ])


def test_dispatch_runs_the_verb_with_its_arguments():
    reply = _router().dispatch(None, text="echo hello world", **WHERE)
    assert reply.text == "echo hello world from U1 in C1"
    assert reply.public is False


def test_aliases_and_case_reach_the_same_verb():
    assert _router().dispatch(None, text="SAY hi", **WHERE).text.startswith("echo hi")


def test_public_flag_makes_the_reply_visible_to_the_channel():
    assert _router().dispatch(None, text="echo hi public", **WHERE).public is True


def test_public_anywhere_is_the_flag_for_verbs_without_free_text():
    reply = _router().dispatch(None, text="echo public hi", **WHERE)
    assert reply.text.startswith("echo hi from")
    assert reply.public is True


def test_public_inside_free_text_is_just_a_word():
    reply = _router().dispatch(None, text="note make the page public again", **WHERE)
    assert reply.text.startswith("echo make the page public again")
    assert reply.public is False
    assert _router().dispatch(None, text="note fixed public", **WHERE).public is True


def test_a_verb_can_keep_its_reply_private_even_when_public_is_asked():
    assert _router().dispatch(None, text="secret public", **WHERE).public is False


def test_unknown_verb_points_to_help_privately():
    reply = _router().dispatch(None, text="dance now public", **WHERE)
    assert "`dance`" in reply.text and "/sla help" in reply.text
    assert reply.public is False


def test_usage_error_reply_shows_the_verbs_usage_and_stays_private():
    reply = _router().dispatch(None, text="count public", **WHERE)
    assert "give me a number" in reply.text
    assert "/sla count <n>" in reply.text
    assert reply.public is False


def test_not_found_reply_says_what_was_not_found():
    reply = _router().dispatch(None, text="find SLA-9", **WHERE)
    assert "SLA-9 is not a ticket in this channel" in reply.text
    assert reply.public is False


def test_a_verb_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="twice"):
        Router([Verb("a", ("/sla a",), "a", _echo), Verb("b", ("/sla b",), "b", _echo,
                                                          aliases=("a",))])


def test_every_verb_has_a_summary_and_usage_lines_that_start_with_its_name():
    router = default_router()
    assert router.verbs, "no verbs registered"
    for verb in router.verbs:
        assert verb.summary.strip(), f"{verb.name} has no help text"
        assert verb.usage, f"{verb.name} has no usage"
        for line in verb.usage:
            assert line.startswith(f"/sla {verb.name}"), line


def test_help_for_an_unknown_verb_is_a_usage_error():
    reply = default_router().dispatch(None, text="help dance", **WHERE)
    assert "no verb `dance`" in reply.text
    assert "/sla help [verb]" in reply.text


class _Directory:
    """users.info as Slack would answer it, for the admin check."""

    def __init__(self, users: dict[str, dict]) -> None:
        self.users = users

    def user_info(self, user: str) -> dict:
        if user not in self.users:
            raise SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
        return self.users[user]


@pytest.mark.parametrize(
    ("record", "expected"),
    [({"is_admin": True}, True), ({"is_owner": True}, True), ({"is_primary_owner": True}, True),
     ({"is_admin": False, "is_owner": False}, False), ({}, False)],
)
def test_workspace_admins_and_owners_may_configure(record, expected):
    deps = SimpleNamespace(settings=SimpleNamespace(admins=frozenset()),
                           notifier=_Directory({"U1": record}))
    assert is_admin(deps, "U1") is expected


def test_a_user_slack_does_not_know_is_no_admin():
    deps = SimpleNamespace(settings=SimpleNamespace(admins=frozenset()),
                           notifier=_Directory({}))
    assert is_admin(deps, "UGHOST") is False


def test_slabot_admins_may_configure_without_asking_slack():
    deps = SimpleNamespace(settings=SimpleNamespace(admins=frozenset({"U7"})),
                           notifier=_Directory({}))
    assert is_admin(deps, "U7") is True


def test_unknown_verb_of_a_pasted_page_is_echoed_short():
    reply = _router().dispatch(None, text="x" * 5000, **WHERE)
    assert "/sla help" in reply.text
    assert len(reply.text) < 200


def test_a_pasted_page_of_digits_gets_a_short_answer():
    reply = default_router().dispatch(None, text="policy set P1 first-response=" + "9" * 100_000,
                                      **WHERE)
    assert reply.text.startswith(":warning:")
    assert "/sla policy set P1" in reply.text
    assert len(reply.text) < 600


@pytest.mark.parametrize("period", ["0001-01", "9999-12", "99999999d"])
def test_a_far_off_report_period_is_refused_with_the_usage(uow, period):
    from datetime import UTC, datetime

    from tests.clocks import FixedClock

    deps = SimpleNamespace(unit_of_work=uow, clock=FixedClock(datetime(2026, 11, 23, tzinfo=UTC)))
    reply = default_router().dispatch(deps, text=f"report {period}", **WHERE)
    assert reply.text.startswith(":warning:") and "Usage: `/sla report" in reply.text
    assert reply.public is False
