"""Specification of the `/sla` argument parser: what people type, what the verbs receive."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.errors import UsageError
from commands.escalate import parse_escalate
from commands.hours import parse_hours
from commands.parser import (
    ChannelRef,
    UserRef,
    parse_channel,
    parse_command_line,
    parse_ticket_number,
    parse_ticket_ref,
    parse_user,
    tokenize,
)
from commands.policy_verbs import parse_policy_nudges, parse_policy_set
from commands.status import parse_status
from commands.tickets import ListFilter, parse_list, parse_set_priority, parse_ticket_action
from commands.tracking import parse_track
from sla.targets import Metric, Priority

USAGE = "/sla verb <args>"


def test_tokenize_keeps_slack_escapes_whole_even_with_spaces_inside():
    assert tokenize("escalate <#C1|ops leads> <@U1|ann>  @bob") == [
        "escalate", "<#C1|ops leads>", "<@U1|ann>", "@bob",
    ]


def test_tokenize_splits_escapes_glued_to_words():
    assert tokenize("escalate<@U1>,<@U2>") == ["escalate", "<@U1>", ",", "<@U2>"]


@pytest.mark.parametrize(
    ("text", "verb", "args", "public"),
    [
        ("", "help", (), False),
        ("   ", "help", (), False),
        ("STATUS 30d", "status", ("30d",), False),
        ("status 30d public", "status", ("30d",), True),
        ("public list breached", "list", ("breached",), True),
        ("public", "help", (), True),
        ("resolve SLA-4 fixed the public page", "resolve", ("SLA-4", "fixed", "the", "public",
                                                           "page"), False),
    ],
)
def test_command_line_splits_verb_args_and_public_flag(text, verb, args, public):
    line = parse_command_line(text)
    assert (line.verb, line.args, line.public) == (verb, args, public)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<#C123ABC|support>", ChannelRef("C123ABC", "support")),
        ("<#C123ABC>", ChannelRef("C123ABC", None)),
        ("<#G0PRIV|secret>", ChannelRef("G0PRIV", "secret")),
        ("#Support-Leads", ChannelRef(None, "support-leads")),
    ],
)
def test_channel_accepts_escaped_and_plain_forms(token, expected):
    assert parse_channel(token, USAGE) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U123>", UserRef("U123", None)),
        ("<@U123|ann>", UserRef("U123", "ann")),
        ("<@W9ENTERPRISE|bob.b>", UserRef("W9ENTERPRISE", "bob.b")),
        ("@Ann.Lee", UserRef(None, "ann.lee")),
    ],
)
def test_user_accepts_escaped_and_plain_forms(token, expected):
    assert parse_user(token, USAGE) == expected


@pytest.mark.parametrize("token", ["support", "#", "<#nope>", "#bad name!", "<@U1>"])
def test_bad_channels_are_usage_errors_with_the_usage_line(token):
    with pytest.raises(UsageError) as caught:
        parse_channel(token, USAGE)
    assert caught.value.usage == USAGE
    assert token in caught.value.message


@pytest.mark.parametrize("token", ["ann", "@", "<@>", "<@U1", "<#C1>"])
def test_bad_people_are_usage_errors_with_the_usage_line(token):
    with pytest.raises(UsageError) as caught:
        parse_user(token, USAGE)
    assert caught.value.usage == USAGE
    assert token in caught.value.message


@pytest.mark.parametrize(
    ("token", "number"), [("SLA-42", 42), ("sla-7", 7), ("42", 42), ("SLA42", 42), ("#9", 9)]
)
def test_ticket_keys_read_in_the_forms_people_type(token, number):
    assert parse_ticket_number(token, USAGE) == number


@pytest.mark.parametrize("token", ["SLA-", "SLA-0", "OPS-4", "forty", "SLA-4.5", "-3"])
def test_bad_ticket_keys_say_how_to_write_one(token):
    with pytest.raises(UsageError, match="SLA-42"):
        parse_ticket_number(token, USAGE)


def test_track_takes_an_optional_priority():
    assert parse_track((), USAGE) is None
    assert parse_track(("p1",), USAGE) is Priority.P1
    assert parse_track(("2",), USAGE) is Priority.P2


@pytest.mark.parametrize("args", [("P5",), ("urgent",), ("P1", "P2")])
def test_track_refuses_anything_but_one_priority(args):
    with pytest.raises(UsageError) as caught:
        parse_track(args, USAGE)
    assert caught.value.usage == USAGE


@pytest.mark.parametrize(
    ("args", "days", "workspace"),
    [((), 7, False), (("30d",), 30, False), (("90D",), 90, False), (("all",), 7, True),
     (("all", "30d"), 30, True), (("7d", "all"), 7, True)],
)
def test_status_reads_period_and_all(args, days, workspace):
    parsed = parse_status(args, USAGE)
    assert (parsed.days, parsed.workspace) == (days, workspace)


@pytest.mark.parametrize("args", [("14d",), ("week",), ("7d", "30d"), ("all", "all")])
def test_status_refuses_unknown_periods(args):
    with pytest.raises(UsageError, match="7d, 30d or 90d"):
        parse_status(args, USAGE)


@pytest.mark.parametrize(
    ("args", "expected"),
    [((), ListFilter.OPEN), (("at-risk",), ListFilter.AT_RISK), (("AT_RISK",), ListFilter.AT_RISK),
     (("breached",), ListFilter.BREACHED), (("mine",), ListFilter.MINE)],
)
def test_list_filters(args, expected):
    assert parse_list(args, USAGE) is expected


def test_list_refuses_unknown_filter_and_names_the_choices():
    with pytest.raises(UsageError, match="open, at-risk, breached, mine"):
        parse_list(("closed",), USAGE)


def test_ticket_ref_needs_exactly_one_key():
    assert parse_ticket_ref(("SLA-3",), USAGE) == 3
    with pytest.raises(UsageError, match="which ticket"):
        parse_ticket_ref((), USAGE)
    with pytest.raises(UsageError, match="did not expect"):
        parse_ticket_ref(("SLA-3", "SLA-4"), USAGE)


def test_ticket_action_keeps_the_reason_as_free_text():
    parsed = parse_ticket_action(("SLA-12", "waiting", "for", "the", "vendor"), USAGE)
    assert (parsed.number, parsed.reason) == (12, "waiting for the vendor")
    assert parse_ticket_action(("SLA-12",), USAGE).reason is None


def test_set_priority_reads_key_and_priority():
    parsed = parse_set_priority(("SLA-42", "p1"), USAGE)
    assert (parsed.number, parsed.priority) == (42, Priority.P1)
    with pytest.raises(UsageError, match="new priority"):
        parse_set_priority(("SLA-42",), USAGE)
    with pytest.raises(UsageError, match="not a priority"):
        parse_set_priority(("SLA-42", "high"), USAGE)


def test_policy_set_reads_targets_per_metric():
    parsed = parse_policy_set(
        ("P1", "first-response=15m", "resolution=4h", "next-response=1h30m"), USAGE
    )
    assert parsed.priority is Priority.P1
    assert parsed.targets == {
        Metric.FIRST_RESPONSE: timedelta(minutes=15),
        Metric.RESOLUTION: timedelta(hours=4),
        Metric.NEXT_RESPONSE: timedelta(hours=1, minutes=30),
    }


def test_policy_set_can_switch_next_response_off():
    parsed = parse_policy_set(("P2", "next-response=off"), USAGE)
    assert parsed.targets == {Metric.NEXT_RESPONSE: None}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ((), "which priority"),
        (("P1",), "at least one target"),
        (("P9", "resolution=4h"), "not a priority"),
        (("P1", "resolution"), "not a target"),
        (("P1", "speed=4h"), "not a target"),
        (("P1", "resolution=4x"), "resolution"),
        (("P1", "resolution=0m"), "longer than zero"),
        (("P1", "first-response=off"), "first-response"),
        (("P1", "resolution=4h", "resolution=5h"), "twice"),
    ],
)
def test_policy_set_bad_input_says_what_is_wrong(args, complaint):
    with pytest.raises(UsageError, match=complaint) as caught:
        parse_policy_set(args, USAGE)
    assert caught.value.usage == USAGE


def test_policy_nudges_reads_percentages_and_reescalation():
    parsed = parse_policy_nudges(("80%", "50%", "re-escalate=2h"), USAGE)
    assert parsed.fractions == (0.5, 0.8)
    assert (parsed.reescalate, parsed.set_reescalate) == (timedelta(hours=2), True)


def test_policy_nudges_without_reescalation_keeps_it():
    parsed = parse_policy_nudges(("75",), USAGE)
    assert parsed.fractions == (0.75,)
    assert parsed.set_reescalate is False


def test_policy_nudges_reescalate_off():
    parsed = parse_policy_nudges(("re-escalate=off",), USAGE)
    assert (parsed.fractions, parsed.reescalate, parsed.set_reescalate) == ((), None, True)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [((), "percentages"), (("0%",), "between 1% and 100%"), (("150%",), "between"),
     (("half",), "not a percentage"), (("50%", "50%"), "once"), (("every=2h",), "re-escalate")],
)
def test_policy_nudges_bad_input(args, complaint):
    with pytest.raises(UsageError, match=complaint):
        parse_policy_nudges(args, USAGE)


def test_hours_separates_schedule_zone_and_holidays():
    parsed = parse_hours(
        ("Mon-Fri", "09:00-17:00,", "Sat", "10:00-14:00", "tz=Europe/Berlin", "holidays=de-by"),
        USAGE,
    )
    assert parsed.hours_text == "Mon-Fri 09:00-17:00, Sat 10:00-14:00"
    assert (parsed.always, parsed.tz, parsed.country, parsed.subdiv) == (
        False, "Europe/Berlin", "DE", "BY",
    )


def test_hours_24x7():
    parsed = parse_hours(("24x7",), USAGE)
    assert parsed.always and parsed.hours_text is None and parsed.tz is None


@pytest.mark.parametrize(
    ("args", "complaint"),
    [((), "working hours"), (("Mon-Fri", "09:00-17:00", "tz=Mars/Olympus"), "not a time zone"),
     (("24x7", "holidays=Germany!"), "not a country"), (("24x7", "zone=UTC"), "tz=")],
)
def test_hours_bad_settings(args, complaint):
    with pytest.raises(UsageError, match=complaint):
        parse_hours(args, USAGE)


def test_escalate_reads_one_channel_and_people_in_any_form():
    parsed = parse_escalate(("<#C9|leads>", "<@U1|ann>,", "@bob", "<@U1>"), USAGE)
    assert parsed.channel == ChannelRef("C9", "leads")
    assert parsed.users == (UserRef("U1", "ann"), UserRef(None, "bob"), UserRef("U1", None))
    assert not parsed.clear


def test_escalate_people_only_and_off():
    assert parse_escalate(("<@U1>",), USAGE).channel is None
    assert parse_escalate(("off",), USAGE).clear


@pytest.mark.parametrize(
    ("args", "complaint"),
    [((), "name a channel"), (("#a", "#b"), "only one"), (("leads",), "neither")],
)
def test_escalate_bad_input(args, complaint):
    with pytest.raises(UsageError, match=complaint):
        parse_escalate(args, USAGE)


@pytest.mark.parametrize("typed", ["europe/berlin", "EUROPE/BERLIN", "Europe/berlin"])
def test_hours_time_zone_is_read_whatever_the_case(typed):
    parsed = parse_hours(("Mon-Fri", "09:00-17:00", f"tz={typed}"), "usage")
    assert parsed.tz == "Europe/Berlin"


def test_a_pasted_page_is_not_echoed_back_whole():
    with pytest.raises(UsageError) as caught:
        parse_list(("y" * 5000,), "usage")
    assert len(caught.value.message) < 120


def test_a_target_longer_than_a_year_of_business_days_is_refused_in_plain_words():
    with pytest.raises(UsageError) as caught:
        parse_policy_set(("P1", "resolution=2000000d"), "usage")
    assert caught.value.message == (
        "resolution can be at most 8760h of business time, got `2000000d`"
    )
