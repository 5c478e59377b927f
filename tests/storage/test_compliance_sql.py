"""Compliance aggregates in SQL give the numbers ``sla.compliance`` gives for the same tickets."""

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sla.clock import compute_clock
from sla.compliance import outcomes_from_clock, summarize
from sla.events import EventKind
from sla.targets import Metric
from storage import repositories as repo
from storage.mappers import metric_outcomes
from tests.storage.builders import ALWAYS, OFFICE, T0, H, random_tickets, ticket, workspace

NOW = datetime(2026, 3, 27, 15, 20, tzinfo=UTC)  # a Friday afternoon


def _without_empty(summary):
    """Metrics with nothing to count are listed by one side and not the other: drop them."""
    metrics = {m: s for m, s in summary.metrics.items()
               if s.counted or s.open or s.previous_met_percent is not None}
    return replace(summary, metrics=metrics)


@pytest.fixture
def history(uow):
    """80 tickets over three weeks in two channels, stored with their clocks at NOW."""
    fresh_outcomes = []
    with uow() as s:
        ws = workspace(s)
        for made, events in random_tickets(s, ws, random.Random(20260327), 80, days=21,
                                           stored_at=NOW):
            clock = compute_clock(events, OFFICE, NOW)
            fresh_outcomes += outcomes_from_clock(made.key, made.channel_id, clock.priority,
                                                  made.assignee_id, clock)
    return ws, fresh_outcomes


PERIODS = [
    (NOW - timedelta(days=7), NOW),
    (NOW - timedelta(days=14), NOW - timedelta(days=7)),  # a past week: open at its end
    (NOW - timedelta(days=30), NOW + timedelta(days=1)),
    (NOW - 6 * H, NOW - 2 * H),
]


def test_sql_aggregate_equals_the_domain_summary(uow, history):
    ws, fresh = history
    # One history, every scope and period: building it is the slow part.
    for channel in ("C1", "C2", None):
        in_scope = [o for o in fresh if channel is None or o.channel == channel]
        for start, end in PERIODS:
            where = f"channel={channel} period={start:%m-%d %H:%M}..{end:%m-%d %H:%M}"
            with uow() as s:
                from_sql = repo.compliance_counts(session=s, workspace_id=ws.id,
                                                  channel_id=channel, start=start, end=end,
                                                  now=NOW)
                rows = repo.list_tickets_in_period(session=s, workspace_id=ws.id,
                                                   channel_id=channel,
                                                   start=start - (end - start), end=end)
                stored = [o for row in rows for o in metric_outcomes(row)]
            from_domain = summarize(in_scope, start, end, NOW)
            assert _without_empty(from_sql) == _without_empty(from_domain), where
            # The rows a report would load map to the same outcomes as well.
            assert _without_empty(summarize(stored, start, end, NOW)) == _without_empty(
                from_domain), where
    with uow() as s:
        last_week = repo.compliance_counts(session=s, workspace_id=ws.id, start=NOW - timedelta(
            days=7), end=NOW, now=NOW)
    # The fixture is rich enough for the comparison to mean something.
    assert last_week.overall.met and last_week.overall.breached
    assert last_week.overall.open and last_week.overall.trend_points is not None
    assert Metric.NEXT_RESPONSE in last_week.metrics


def test_hand_counted_channel_status(uow):
    now = T0 + 10 * H
    with uow() as s:
        ws = workspace(s)
        met = ticket(s, ws, "1.1", at=T0)  # P3 on 24x7: first response 4h, resolution 24h
        late = ticket(s, ws, "1.2", at=T0)
        running_late = ticket(s, ws, "1.3", at=now - 5 * H)
        at_risk = ticket(s, ws, "1.4", at=now - 3.5 * H)
        repo.append_event(session=s, ticket=met, kind=EventKind.RESPONDED, at=T0 + H)
        repo.append_event(session=s, ticket=met, kind=EventKind.RESOLVED, at=T0 + 2 * H)
        repo.append_event(session=s, ticket=late, kind=EventKind.RESPONDED, at=T0 + 6 * H)
        for made in (met, late, running_late, at_risk):
            events = repo.load_clock_events(session=s, ticket_id=made.id)
            repo.apply_clock(session=s, ticket=made, clock=compute_clock(events, ALWAYS, now))
    with uow() as s:
        summary = repo.compliance_counts(session=s, workspace_id=ws.id, channel_id="C1",
                                         start=T0, end=now, now=now, horizon=timedelta(0))
    first = summary.metrics[Metric.FIRST_RESPONSE]
    # Stopped: met (1h) and late (6h); running: 5h old (breached), 3.5h old (at risk).
    assert (first.met, first.breached, first.open, first.at_risk, first.breached_now) == (
        1, 2, 2, 1, 1)
    assert first.met_percent == pytest.approx(100 / 3)
    assert first.closed_met_percent == 50.0
    assert (first.median_elapsed, first.p90_elapsed) == (H, 6 * H)
    resolution = summary.metrics[Metric.RESOLUTION]
    assert (resolution.met, resolution.breached, resolution.open) == (1, 0, 3)
    assert summary.overall.met == 2 and summary.overall.breached == 2
    assert Metric.NEXT_RESPONSE not in summary.metrics


def test_percentile_ranks_are_picked_as_a_full_sort_would():
    import numpy as np

    from storage.repositories.compliance_tally import PERCENTILES
    from storage.repositories.compliance_tally import ranks as _ranks

    rng = random.Random(7)
    for _ in range(500):
        values = [rng.randrange(6) for _ in range(rng.randrange(1, 30))]
        ordered = sorted(values)
        expected = {p: timedelta(microseconds=ordered[max(math.ceil(p / 100 * len(values)), 1) - 1])
                    for p in PERCENTILES}
        assert _ranks(np.array(values, dtype=np.int64)) == expected
    assert _ranks(np.empty(0, dtype=np.int64)) == dict.fromkeys(PERCENTILES)
