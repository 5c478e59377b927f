"""Specification of compliance figures: met %, breaches, risk, percentiles, trend, grouping."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.compliance import (
    FORMULA,
    ComplianceError,
    MetricOutcome,
    credit_owed,
    nearest_rank,
    outcomes_from_clock,
    summarize,
    summarize_by,
)
from sla.events import ClockEvent, EventKind
from sla.policy import Policy
from sla.targets import CreditTier, Metric, Priority

M = timedelta(minutes=1)
H = timedelta(hours=1)
# The period under study is the week of Monday 8 June 2026; the previous one starts 1 June.
START = datetime(2026, 6, 8, tzinfo=UTC)
END = START + timedelta(days=7)
NOW = END + H
LAST_WEEK = START - timedelta(days=7)


def outcome(
    *,
    started: datetime = START + H,
    stopped: datetime | None = START + 2 * H,
    elapsed: timedelta = 30 * M,
    target: timedelta = H,
    metric: Metric = Metric.FIRST_RESPONSE,
    channel: str = "C-support",
    priority: Priority = Priority.P2,
    assignee: str | None = "U-ana",
    due_at: datetime | None = None,
    key: str = "T-1",
) -> MetricOutcome:
    """A metric outcome; the due instant defaults to start + target (a 24x7 view)."""
    return MetricOutcome(
        ticket_key=key,
        channel=channel,
        priority=priority,
        assignee=assignee,
        metric=metric,
        target=target,
        started_at=started,
        stopped_at=stopped,
        elapsed=elapsed,
        breached=elapsed > target,
        due_at=due_at if due_at is not None else started + target,
    )


def met(**kwargs) -> MetricOutcome:
    return outcome(elapsed=30 * M, **kwargs)


def late(**kwargs) -> MetricOutcome:
    return outcome(elapsed=90 * M, **kwargs)


def running(elapsed: timedelta, started: datetime, **kwargs) -> MetricOutcome:
    return outcome(stopped=None, elapsed=elapsed, started=started, **kwargs)


def first_response(outcomes, now=NOW, **kwargs):
    return summarize(outcomes, START, END, now, **kwargs).metrics[Metric.FIRST_RESPONSE]


def test_met_percent_is_met_over_met_plus_breached():
    figures = first_response([met(), met(), met(), late()])
    assert (figures.met, figures.breached) == (3, 1)
    assert figures.met_percent == 75.0


def test_a_running_metric_that_already_breached_counts_as_breached():
    still_open = running(3 * H, started=END - 5 * H)  # due 4 hours before the end
    figures = first_response([met(), still_open])
    assert (figures.met, figures.breached, figures.breached_now) == (1, 1, 1)
    assert figures.met_percent == 50.0
    assert figures.closed_met_percent == 100.0


def test_an_open_next_response_with_an_earlier_breached_cycle_counts_as_breached():
    cycle = replace(
        running(5 * M, started=END - 10 * M, metric=Metric.NEXT_RESPONSE),
        breached=True,  # an earlier cycle of this ticket breached
    )
    figures = summarize([cycle], START, END, END - M).metrics[Metric.NEXT_RESPONSE]
    assert (figures.breached, figures.breached_now, figures.met_percent) == (1, 1, 0.0)


def test_a_running_metric_within_target_is_open_but_not_counted():
    fresh = running(10 * M, started=END - 10 * M)
    figures = first_response([met(), fresh])
    assert (figures.met, figures.breached, figures.open) == (1, 0, 1)
    assert figures.met_percent == 100.0


def test_metrics_stopped_outside_the_period_do_not_count():
    before = met(started=LAST_WEEK, stopped=LAST_WEEK + H)
    after = late(started=END, stopped=END + 30 * M)
    figures = first_response([met(), before, after])
    assert (figures.met, figures.breached) == (1, 0)


def test_a_metric_stopping_exactly_at_the_end_belongs_to_the_next_period():
    figures = first_response([met(started=END - H, stopped=END)])
    assert figures.met == 0


def test_no_data_gives_no_percentage_rather_than_zero():
    summary = summarize([], START, END, NOW)
    assert summary.metrics == {}
    assert summary.met_percent is None
    assert summary.overall.median_elapsed is None


def test_closed_only_percentage_leaves_out_open_breaches():
    breached_open = running(2 * H, started=END - 3 * H)
    figures = first_response([met(), late(), breached_open])
    assert figures.met_percent == pytest.approx(100 / 3)
    assert figures.closed_met_percent == 50.0
    assert (figures.closed_met, figures.closed_breached) == (1, 1)


@pytest.mark.parametrize(
    ("elapsed", "due_in", "at_risk"),
    [
        (50 * M, 10 * M, True),  # at 83% of the target
        (20 * M, 40 * M, True),  # only 33% but due within the hour
        (20 * M, 3 * H, False),
    ],
)
def test_at_risk_means_near_the_target_or_due_soon(elapsed, due_in, at_risk):
    now = END - 2 * H  # looking at the current week while it runs
    risky = running(elapsed, started=now - elapsed, due_at=now + due_in)
    figures = first_response([risky], now=now, horizon=H)
    assert figures.at_risk == int(at_risk)
    assert figures.breached_now == 0


def test_percentiles_are_nearest_rank_over_stopped_metrics():
    elapsed = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    outcomes = [outcome(elapsed=n * M, target=2 * H) for n in elapsed]
    outcomes.append(running(500 * M, started=START))  # open metrics have no final time
    figures = first_response(outcomes)
    assert figures.median_elapsed == 50 * M
    assert figures.p90_elapsed == 90 * M


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([15, 20, 35, 40, 50], 30, 20),
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        ([3, 1, 2], 50, 2),
        ([7], 90, 7),
    ],
)
def test_nearest_rank_percentile(values, p, expected):
    assert nearest_rank([n * M for n in values], p) == expected * M


def test_nearest_rank_rejects_impossible_percentiles():
    with pytest.raises(ComplianceError, match="percentile"):
        nearest_rank([M], 0)


def test_trend_is_the_change_in_percentage_points_from_the_previous_period():
    previous = [
        met(started=LAST_WEEK + H, stopped=LAST_WEEK + 2 * H),
        late(started=LAST_WEEK + H, stopped=LAST_WEEK + 3 * H),
    ]
    figures = first_response([*previous, met(), met(), met(), late()])
    assert figures.previous_met_percent == 50.0
    assert figures.trend_points == 25.0


def test_no_trend_without_a_previous_period():
    assert first_response([met()]).trend_points is None


def test_summary_states_its_formula():
    summary = summarize([met()], START, END, NOW)
    assert summary.formula == FORMULA
    assert "met / (met + breached)" in summary.formula
    assert "Closed-only" in summary.formula


def test_metrics_are_summarised_separately_and_pooled_overall():
    outcomes = [met(), late(metric=Metric.RESOLUTION), met(metric=Metric.RESOLUTION)]
    summary = summarize(outcomes, START, END, NOW)
    assert summary.metrics[Metric.FIRST_RESPONSE].met_percent == 100.0
    assert summary.metrics[Metric.RESOLUTION].met_percent == 50.0
    assert summary.met_percent == pytest.approx(200 / 3)
    assert Metric.NEXT_RESPONSE not in summary.metrics


def test_summarize_by_groups_per_channel_priority_or_assignee():
    outcomes = [
        met(channel="C-a", priority=Priority.P1, assignee="U-ana"),
        late(channel="C-b", priority=Priority.P1, assignee=None),
        met(channel="C-b", priority=Priority.P3, assignee="U-bo"),
    ]
    by_channel = summarize_by(outcomes, "channel", START, END, NOW)
    assert {k: v.met_percent for k, v in by_channel.items()} == {"C-a": 100.0, "C-b": 50.0}
    by_priority = summarize_by(outcomes, "priority", START, END, NOW)
    assert {k: v.met_percent for k, v in by_priority.items()} == {"P1": 50.0, "P3": 100.0}
    by_assignee = summarize_by(outcomes, "assignee", START, END, NOW)
    assert list(by_assignee) == ["U-ana", "U-bo", None]  # unassigned last
    assert by_assignee[None].met_percent == 0.0


def test_summarize_by_an_unknown_key_names_the_choices():
    with pytest.raises(ComplianceError, match="channel, priority, assignee"):
        summarize_by([met()], "team", START, END, NOW)


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ComplianceError, match="after its start"):
        summarize([], END, START, NOW)


TIERS = (CreditTier(99.9, 10), CreditTier(99, 25), CreditTier(95, 50))


@pytest.mark.parametrize(
    ("percent", "credit"),
    [(100.0, None), (99.9, None), (99.5, 10), (99.0, 10), (98.0, 25), (50.0, 50), (None, None)],
)
def test_credit_owed_is_the_tightest_tier_compliance_falls_below(percent, credit):
    owed = credit_owed(percent, TIERS)
    assert (owed.credit_percent if owed else None) == credit


def test_outcomes_from_a_clock_carry_each_measured_metric():
    office = BusinessCalendar(
        "UTC", {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    )
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    events = [
        ClockEvent(EventKind.CREATED, monday, Priority.P1),
        ClockEvent(EventKind.RESPONDED, monday + 20 * M),
    ]
    clock = compute_clock(events, Policy.default(office), monday + H)
    by_metric = {
        o.metric: o for o in outcomes_from_clock("T-7", "C-ops", Priority.P1, "U-ana", clock)
    }
    assert set(by_metric) == {Metric.FIRST_RESPONSE, Metric.RESOLUTION}
    first = by_metric[Metric.FIRST_RESPONSE]
    assert (first.ticket_key, first.channel, first.assignee) == ("T-7", "C-ops", "U-ana")
    assert first.breached and first.stopped_at == monday + 20 * M
    assert first.due_at == monday + 15 * M
    assert by_metric[Metric.RESOLUTION].stopped_at is None
    figures = summarize(by_metric.values(), monday, monday + timedelta(days=1), monday + H)
    assert figures.metrics[Metric.FIRST_RESPONSE].met_percent == 0.0
    assert figures.metrics[Metric.RESOLUTION].open == 1


outcomes_strategy = st.lists(
    st.builds(
        outcome,
        started=st.integers(0, 20 * 24).map(lambda h: LAST_WEEK + h * H),
        stopped=st.one_of(st.none(), st.integers(0, 24 * 24).map(lambda h: LAST_WEEK + h * H)),
        elapsed=st.integers(0, 180).map(lambda m: m * M),
    ),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(outcomes=outcomes_strategy)
def test_percentages_stay_between_0_and_100_and_counts_add_up(outcomes):
    outcomes = [o for o in outcomes if o.stopped_at is None or o.stopped_at >= o.started_at]
    summary = summarize(outcomes, START, END, NOW)
    for figures in [summary.overall, *summary.metrics.values()]:
        for value in (figures.met_percent, figures.closed_met_percent):
            assert value is None or 0 <= value <= 100
        assert figures.closed_met + figures.closed_breached <= figures.met + figures.breached
        assert figures.breached_now + figures.at_risk <= figures.open
        if figures.median_elapsed is not None:
            assert figures.median_elapsed <= figures.p90_elapsed


@settings(max_examples=60, deadline=None)
@given(outcomes=outcomes_strategy)
def test_adding_a_met_metric_never_lowers_met_percent(outcomes):
    before = summarize(outcomes, START, END, NOW).met_percent
    after = summarize([*outcomes, met(key="T-new")], START, END, NOW).met_percent
    assert after is not None and (before is None or after >= before)
