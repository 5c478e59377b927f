"""Specification of SLA policies: defaults, validation, builders and the JSON spec."""

import json
import math
from datetime import timedelta

import pytest

from sla.calendar import BusinessCalendar
from sla.policy import Policy
from sla.targets import (
    MIN_REESCALATE,
    Audience,
    CreditTier,
    Metric,
    NudgeRule,
    PolicyError,
    Priority,
    Targets,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)
OFFICE_HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        (Priority.P1, 15 * M, 4 * H),
        (Priority.P2, 1 * H, 8 * H),
        (Priority.P3, 4 * H, 24 * H),  # 3 business days of 8 hours
        (Priority.P4, 8 * H, 40 * H),  # 1 and 5 business days
    ],
)
def test_default_targets_are_the_documented_business_time(priority, first_response, resolution):
    policy = Policy.default()
    assert policy.target(priority, Metric.FIRST_RESPONSE) == first_response
    assert policy.target(priority, Metric.RESOLUTION) == resolution
    assert policy.target(priority, Metric.NEXT_RESPONSE) is None


def test_default_nudges_at_half_four_fifths_and_breach_with_growing_audiences():
    nudges = Policy.default().nudges
    assert [rule.fraction for rule in nudges] == [0.5, 0.8, 1.0]
    assert nudges[0].audiences == {Audience.THREAD}
    assert nudges[1].audiences == {Audience.THREAD, Audience.ASSIGNEE}
    assert nudges[2].audiences == {
        Audience.THREAD,
        Audience.ESCALATION_CHANNEL,
        Audience.MANAGERS,
    }


def test_default_calendar_is_weekdays_nine_to_five_utc():
    calendar = Policy.default().calendar
    assert calendar.tz == "UTC"
    assert BusinessCalendar("UTC", OFFICE_HOURS).to_spec() == calendar.to_spec()


def test_default_priority_is_p3_and_re_escalation_is_off():
    policy = Policy.default()
    assert policy.default_priority is Priority.P3
    assert policy.reescalate_every is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("P1", Priority.P1), ("p2", Priority.P2), ("3", Priority.P3), (" p4 ", Priority.P4)],
)
def test_priority_parse_accepts_usual_spellings(text, expected):
    assert Priority.parse(text) is expected


@pytest.mark.parametrize("text", ["P5", "0", "urgent", ""])
def test_priority_parse_rejects_unknown_and_lists_the_choices(text):
    with pytest.raises(PolicyError, match="P1, P2, P3, P4"):
        Priority.parse(text)


def test_policy_error_is_a_value_error_for_friendly_handling():
    assert issubclass(PolicyError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "bad_part"),
    [
        ({"first_response": timedelta(0), "resolution": H}, "first_response"),
        ({"first_response": H, "resolution": -H}, "resolution"),
        ({"first_response": H, "resolution": H, "next_response": timedelta(0)}, "next_response"),
    ],
)
def test_targets_must_be_positive(kwargs, bad_part):
    with pytest.raises(PolicyError, match=f"{bad_part}: must be positive"):
        Targets(**kwargs)


def test_first_response_may_exceed_resolution():
    targets = Targets(first_response=8 * H, resolution=4 * H)
    assert targets.get(Metric.FIRST_RESPONSE) == 8 * H


@pytest.mark.parametrize("fraction", [0, -0.5, 1.01, math.nan, math.inf])
def test_nudge_fraction_must_be_in_zero_excluded_to_one(fraction):
    with pytest.raises(PolicyError, match=r"in \(0, 1\]"):
        NudgeRule(fraction, frozenset({Audience.THREAD}))


def test_nudge_rule_needs_an_audience_and_reads_audience_names():
    assert NudgeRule(0.5, frozenset({"assignee"})).audiences == {Audience.ASSIGNEE}
    with pytest.raises(PolicyError, match="at least one audience"):
        NudgeRule(0.5, frozenset())
    with pytest.raises(PolicyError, match="unknown audience"):
        NudgeRule(0.5, frozenset({"boss"}))


def test_policy_needs_targets_for_every_priority():
    targets = dict(Policy.default().targets)
    del targets[Priority.P4]
    with pytest.raises(PolicyError, match="missing priorities P4"):
        Policy(calendar=BusinessCalendar.always(), targets=targets)


def test_policy_rejects_the_same_nudge_fraction_twice():
    rule = NudgeRule(0.5, frozenset({Audience.THREAD}))
    with pytest.raises(PolicyError, match="once"):
        Policy(BusinessCalendar.always(), Policy.default().targets, nudges=(rule, rule))


def test_policy_sorts_nudges_by_fraction():
    rules = tuple(NudgeRule(f, frozenset({Audience.THREAD})) for f in (1.0, 0.25, 0.75))
    policy = Policy(BusinessCalendar.always(), Policy.default().targets, nudges=rules)
    assert [rule.fraction for rule in policy.nudges] == [0.25, 0.75, 1.0]


@pytest.mark.parametrize(
    ("below", "credit"), [(0, 10), (101, 10), (99, 0), (99, 150), ("99", 10), (99, None)]
)
def test_credit_tier_percentages_must_be_numbers_within_zero_and_hundred(below, credit):
    with pytest.raises(PolicyError, match="credit tier"):
        CreditTier(below, credit)


def test_with_target_changes_one_target_and_leaves_the_original_alone():
    policy = Policy.default()
    changed = policy.with_target("p1", "first_response", 5 * M)
    assert changed.target(Priority.P1, Metric.FIRST_RESPONSE) == 5 * M
    assert changed.target(Priority.P1, Metric.RESOLUTION) == 4 * H
    assert changed.target(Priority.P2, Metric.FIRST_RESPONSE) == 1 * H
    assert policy.target(Priority.P1, Metric.FIRST_RESPONSE) == 15 * M


def test_with_target_switches_next_response_on_and_off():
    policy = Policy.default().with_target(Priority.P2, Metric.NEXT_RESPONSE, 30 * M)
    assert policy.target(Priority.P2, Metric.NEXT_RESPONSE) == 30 * M
    off = policy.with_target(Priority.P2, Metric.NEXT_RESPONSE, None)
    assert off.target(Priority.P2, Metric.NEXT_RESPONSE) is None


@pytest.mark.parametrize(
    ("metric", "duration", "message"),
    [
        (Metric.RESOLUTION, None, "targets.P1.resolution: cannot be switched off"),
        (Metric.FIRST_RESPONSE, -M, "targets.P1.first_response: must be positive"),
    ],
)
def test_with_target_errors_name_the_target(metric, duration, message):
    with pytest.raises(PolicyError, match=message):
        Policy.default().with_target(Priority.P1, metric, duration)


def test_with_nudges_always_keeps_the_breach_and_known_audiences():
    policy = Policy.default().with_nudges([0.25, 0.8])
    assert [rule.fraction for rule in policy.nudges] == [0.25, 0.8, 1.0]
    assert policy.nudges[0].audiences == {Audience.THREAD}
    assert policy.nudges[1].audiences == Policy.default().nudges[1].audiences


def test_with_nudges_sets_or_keeps_re_escalation():
    every = Policy.default().with_nudges([0.5], 30 * M)
    assert every.reescalate_every == 30 * M
    assert every.with_nudges([0.9]).reescalate_every == 30 * M
    assert every.with_nudges([0.9], None).reescalate_every is None


def test_with_calendar_swaps_the_calendar_only():
    calendar = BusinessCalendar.always("Europe/Paris")
    policy = Policy.default().with_calendar(calendar)
    assert policy.calendar is calendar
    assert policy.targets == Policy.default().targets


def test_spec_is_json_and_round_trips():
    policy = (
        Policy.default(BusinessCalendar("America/New_York", OFFICE_HOURS))
        .with_target(Priority.P1, Metric.NEXT_RESPONSE, timedelta(minutes=30, seconds=15))
        .with_nudges([0.6], timedelta(hours=2))
    )
    policy = Policy(
        calendar=policy.calendar,
        targets=policy.targets,
        nudges=policy.nudges,
        reescalate_every=policy.reescalate_every,
        default_priority=Priority.P2,
        credit_tiers=(CreditTier(99.5, 10), CreditTier(95, 25)),
    )
    spec = json.loads(json.dumps(policy.to_spec()))
    again = Policy.from_spec(spec)
    assert again.to_spec() == policy.to_spec()
    assert again.targets == policy.targets
    assert again.nudges == policy.nudges
    assert again.reescalate_every == 2 * H
    assert again.default_priority is Priority.P2
    assert again.credit_tiers == policy.credit_tiers


def test_spec_writes_durations_as_seconds():
    spec = Policy.default().to_spec()
    assert spec["targets"]["P1"] == {
        "first_response": 900,
        "next_response": None,
        "resolution": 14400,
    }


def test_from_spec_reads_duration_text_and_keeps_defaults_for_the_rest():
    policy = Policy.from_spec(
        {
            "targets": {"p1": {"first_response": "10m"}, "P2": {"next_response": "1h30m"}},
            "nudges": [0.5, {"fraction": 0.9, "audiences": "assignee"}],
            "reescalate_every": "1h",
        }
    )
    assert policy.target(Priority.P1, Metric.FIRST_RESPONSE) == 10 * M
    assert policy.target(Priority.P1, Metric.RESOLUTION) == 4 * H
    assert policy.target(Priority.P2, Metric.NEXT_RESPONSE) == 90 * M
    assert [rule.fraction for rule in policy.nudges] == [0.5, 0.9]
    assert policy.nudges[1].audiences == {Audience.ASSIGNEE}
    assert policy.reescalate_every == H
    assert policy.calendar.tz == "UTC"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"target": {}}, "policy: unknown keys target"),
        ({"targets": {"P9": {}}}, "unknown priority 'P9'"),
        ({"targets": {"P1": {"first_respons": 60}}}, "targets.P1: unknown keys first_respons"),
        ({"targets": {"P1": {"first_response": 0}}}, "targets.P1.first_response: must be pos"),
        ({"targets": {"P1": {"resolution": "4x"}}}, "targets.P1.resolution: "),
        ({"targets": {"P1": {"resolution": None}}}, "targets.P1.resolution: a duration is"),
        ({"targets": {"P1": 60}}, "targets.P1: must be a mapping"),
        ({"nudges": [{"fraction": 2}]}, r"nudges\[0\]: .*\(0, 1\]"),
        ({"nudges": [0.5, {"fraction": 0.8, "audiences": ["boss"]}]}, r"nudges\[1\]: .*boss"),
        ({"reescalate_every": "-1h"}, "reescalate_every"),
        ({"credit_tiers": [{"below_percent": 99}]}, r"credit_tiers\[0\]: missing credit_perc"),
        ({"default_priority": "P7"}, "unknown priority 'P7'"),
    ],
)
def test_from_spec_errors_name_the_bad_part(spec, message):
    with pytest.raises(PolicyError, match=message):
        Policy.from_spec(spec)


def test_from_spec_reports_a_bad_calendar_as_a_policy_error():
    with pytest.raises(PolicyError, match="calendar"):
        Policy.from_spec({"calendar": {"tz": "Mars/Olympus_Mons", "hours": OFFICE_HOURS}})


def test_equal_policies_are_interchangeable_as_cache_keys():
    one = Policy.default().with_target(Priority.P1, Metric.FIRST_RESPONSE, 5 * M)
    two = Policy.default().with_target("1", "first_response", 5 * M)
    assert one == two
    assert len({one, two, Policy.default()}) == 2


@pytest.mark.parametrize("metric", list(Metric))
def test_targets_longer_than_a_year_of_business_days_are_refused(metric):
    # A typo like resolution=2000000d would make every clock of the channel fail (the
    # calendar ends at year 9999) after seconds of work; 365d is three years of 8-hour days.
    year = timedelta(days=365)
    Policy.default().with_targets("P1", {metric: year, Metric.RESOLUTION: year})
    with pytest.raises(PolicyError, match=r"targets\.P1\..*: at most 8760h"):
        Policy.default().with_target("P1", metric, timedelta(days=365, seconds=1))


def test_reescalation_longer_than_a_year_is_refused():
    with pytest.raises(PolicyError, match="reescalate_every: at most 8760h"):
        Policy.default().with_nudges((0.5,), timedelta(days=400))


def test_reescalation_closer_than_fifteen_minutes_is_refused_and_says_the_floor():
    assert timedelta(minutes=15) == MIN_REESCALATE
    Policy.default().with_nudges((0.5,), MIN_REESCALATE)
    for every in (timedelta(seconds=1), timedelta(minutes=14, seconds=59)):
        with pytest.raises(PolicyError, match="re-escalate must be at least 15m"):
            Policy.default().with_nudges((0.5,), every)


def test_a_stored_policy_with_a_short_reescalation_still_loads():
    spec = {**Policy.default().to_spec(), "reescalate_every": 1}
    assert Policy.from_spec(spec).reescalate_every == timedelta(seconds=1)


def test_resolution_shorter_than_first_response_is_refused_naming_both():
    with pytest.raises(PolicyError, match=r"P1: the resolution target \(1m\) cannot be shorter "
                       r"than the first response target \(1h\)"):
        Policy.default().with_targets("P1", {Metric.RESOLUTION: timedelta(minutes=1),
                                             Metric.FIRST_RESPONSE: timedelta(hours=1)})


def test_targets_change_together_so_their_order_does_not_matter():
    # Stock P1 is 15m / 4h: a first response of 5h alone would pass resolution.
    policy = Policy.default().with_targets(
        "P1", {Metric.FIRST_RESPONSE: 5 * H, Metric.RESOLUTION: 8 * H})
    assert policy.target("P1", "first_response") == 5 * H
    assert policy.target("P1", "resolution") == 8 * H
