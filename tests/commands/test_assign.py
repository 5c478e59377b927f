"""`/sla assign SLA-42 @person|me|none`: the grammar, read into a ticket and a user id."""

from __future__ import annotations

import pytest

from commands.assign import USAGE, AssignArgs, parse_assign
from commands.errors import UsageError

ME = "U0ME"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("SLA-42", "<@U0ANN|ann>"), AssignArgs(42, "U0ANN")),
        (("sla-42", "<@W0ANN>"), AssignArgs(42, "W0ANN")),
        (("42", "me"), AssignArgs(42, ME)),
        (("SLA-42", "ME"), AssignArgs(42, ME)),
        (("#42", "none"), AssignArgs(42, None)),
        (("SLA-42", "nobody"), AssignArgs(42, None)),
    ],
)
def test_assign_reads_a_ticket_and_a_mention_me_or_none(args, expected):
    assert parse_assign(args, USAGE, me=ME) == expected


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ((), "which ticket"),
        (("SLA-42",), "to whom"),
        (("SLA-42", "<@U0ANN>", "<@U0BO>"), "did not expect"),
        (("ann", "me"), "not a ticket key"),
        (("SLA-42", "ann"), "not a person"),
        (("SLA-42", "<#C0SUPPORT>"), "not a person"),
        # A plain @name is text Slack did not turn into a mention: nobody it knows.
        (("SLA-42", "@ann"), "I do not know `@ann`: pick the person from Slack's autocomplete"),
    ],
)
def test_assign_bad_input_says_what_is_wrong_with_the_usage(args, complaint):
    with pytest.raises(UsageError, match=complaint) as raised:
        parse_assign(args, USAGE, me=ME)
    assert raised.value.usage == USAGE


def test_a_long_unknown_name_is_clipped_when_quoted_back():
    with pytest.raises(UsageError) as raised:
        parse_assign(("SLA-42", "@" + "a" * 79), USAGE, me=ME)
    assert len(raised.value.message) < 160
