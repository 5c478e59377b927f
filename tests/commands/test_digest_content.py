"""A fixture week of tickets gives exactly the digest figures computed by hand.

Policy: stock targets on a 24x7 calendar, so business time is wall-clock time.
P1 15m/4h, P2 1h/8h, P3 4h/24h, P4 8h/40h. The digest slot is Monday 2026-11-23 09:00 UTC:
last week is Mon 16 00:00 to Mon 23 00:00, the week before Mon 9 to Mon 16.
"""

from datetime import timedelta

import pytest

from bot.views.blocks import check_block_kit_limits
from bot.views.digest import render_digest
from commands.reporting import (
    AtRiskRow,
    BreachRow,
    MetricTrend,
    MissGroup,
    build_chart_days,
    build_digest,
)
from commands.ticket_facts import load_facts
from sla.events import EventKind
from tests.commands.reporting_fixtures import ticket, utc, workspace

RESPONDED, RESOLVED, PAUSED = EventKind.RESPONDED, EventKind.RESOLVED, EventKind.PAUSED
SLOT = utc(2026, 11, 23, 9)
NOW = SLOT


def link(key_ts):
    return f"https://acme.slack.com/archives/{key_ts}"


@pytest.fixture
def fixture_week(uow):
    with uow() as s:
        ws = workspace(s)
        # The week before: one ticket met both targets, one missed both.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 10, 10),
               events=((RESPONDED, utc(2026, 11, 10, 10, 30)), (RESOLVED, utc(2026, 11, 10, 16))))
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 11, 10),
               events=((RESPONDED, utc(2026, 11, 11, 12)), (RESOLVED, utc(2026, 11, 11, 20))))
        # SLA-3: P2, 20m / 4h, both met.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 16, 9),
               events=((RESPONDED, utc(2026, 11, 16, 9, 20)), (RESOLVED, utc(2026, 11, 16, 13))))
        # SLA-4: P1, 40m / 5h: first response 25m over, resolution 1h over.
        ticket(s, ws, channel="C1", priority="P1", created=utc(2026, 11, 17, 10),
               events=((RESPONDED, utc(2026, 11, 17, 10, 40)), (RESOLVED, utc(2026, 11, 17, 15))))
        # SLA-5: P2 in C2, 50m / 6h, both met.
        ticket(s, ws, channel="C2", priority="P2", created=utc(2026, 11, 18, 8),
               events=((RESPONDED, utc(2026, 11, 18, 8, 50)), (RESOLVED, utc(2026, 11, 18, 14))))
        # SLA-6: P3 in C2, answered in 1h, still open: resolution due Fri 20 12:00, breached.
        ticket(s, ws, channel="C2", priority="P3", created=utc(2026, 11, 19, 12),
               events=((RESPONDED, utc(2026, 11, 19, 13)),))
        # SLA-7: after the week, 30 minutes old at the slot: first response due 09:30.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 23, 8, 30))
        # SLA-8: P4 answered in 1h, then paused: resolution held, neither met nor breached.
        ticket(s, ws, channel="C1", priority="P4", created=utc(2026, 11, 20, 10),
               events=((RESPONDED, utc(2026, 11, 20, 11)), (PAUSED, utc(2026, 11, 20, 12))))
        return ws


def _digest(uow, ws, channel=None):
    with uow() as s:
        facts = load_facts(session=s, workspace_id=ws, channel_id=channel,
                           start=SLOT - timedelta(days=63), end=NOW, now=NOW)
    return build_digest(facts, slot_start=SLOT, now=NOW, scope="all channels", tz="UTC"), facts


def test_counts_and_met_percent_match_the_hand_computed_week(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week)
    assert digest.period.label == "Nov 16 to Nov 22"
    assert digest.opened == 5  # SLA-3, 4, 5, 6, 8
    assert digest.resolved == 3  # SLA-3, 4, 5
    assert digest.metrics == (
        # 20m, 40m (late), 50m, 1h, 1h -> 4 met, 1 breached; week before 1 of 2.
        MetricTrend("first_response", met=4, breached=1, met_percent=80.0,
                    previous_percent=50.0, median=timedelta(minutes=50), p90=timedelta(hours=1)),
        # 4h, 5h (late), 6h stopped + SLA-6 open past due -> 2 met, 2 breached; SLA-8 paused.
        MetricTrend("resolution", met=2, breached=2, met_percent=50.0, previous_percent=50.0,
                    median=timedelta(hours=5), p90=timedelta(hours=6)),
    )
    assert digest.metrics[0].delta_points == 30.0
    assert digest.metrics[1].delta_points == 0.0


def test_breaches_are_listed_worst_first_with_their_thread_links(uow, fixture_week):
    digest, facts = _digest(uow, fixture_week)
    links = {f.key: f.link for f in facts}
    assert digest.breaches == (
        # SLA-6 has run 93h by the slot against 24h.
        BreachRow("SLA-6", "C2", "P3", "resolution", timedelta(hours=69), links["SLA-6"]),
        BreachRow("SLA-4", "C1", "P1", "resolution", timedelta(hours=1), links["SLA-4"]),
        BreachRow("SLA-4", "C1", "P1", "first_response", timedelta(minutes=25), links["SLA-4"]),
    )
    assert links["SLA-6"].startswith("https://acme.slack.com/archives/C2/p")


def test_channels_and_priorities_that_missed_most(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week)
    # C1: SLA-3 2 met, SLA-4 2 breached, SLA-8 first response met -> 3 of 5.
    # C2: SLA-5 2 met, SLA-6 first response met, resolution breached -> 3 of 4.
    assert digest.channels_missed == (MissGroup("C1", 2, 60.0), MissGroup("C2", 1, 75.0))
    assert digest.priorities_missed == (MissGroup("P1", 2, 0.0), MissGroup("P3", 1, 50.0))


def test_at_risk_now_lists_the_overdue_and_the_nearly_due(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week)
    assert [(r.ticket_key, r.metric, r.remaining, r.due_at) for r in digest.at_risk] == [
        ("SLA-6", "resolution", -timedelta(hours=69), utc(2026, 11, 20, 12)),
        ("SLA-7", "first_response", timedelta(minutes=30), utc(2026, 11, 23, 9, 30)),
    ]
    assert all(isinstance(r, AtRiskRow) for r in digest.at_risk)


def test_digest_for_one_channel_only_counts_its_tickets(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week, channel="C2")
    assert (digest.opened, digest.resolved) == (2, 1)
    assert [(m.met, m.breached) for m in digest.metrics] == [(2, 0), (1, 1)]
    assert digest.metrics[0].previous_percent is None  # C2 had no tickets the week before


def test_digest_blocks_of_the_fixture_week_fit_block_kit(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week)
    blocks = render_digest(digest)
    check_block_kit_limits(blocks)
    text = str(blocks)
    assert "80% met ↑ +30 pp (was 50%)" in text
    assert "50% met → ±0 pp (was 50%)" in text
    assert "5 opened · 3 resolved" in text


def test_chart_series_has_56_days_with_that_weeks_daily_figures(uow, fixture_week):
    _, facts = _digest(uow, fixture_week)
    series = build_chart_days(facts, end=utc(2026, 11, 23), now=NOW, tz="UTC")
    assert len(series) == 56
    assert series[-1].day.isoformat() == "2026-11-22"
    by_day = {d.day.isoformat(): d for d in series}
    assert by_day["2026-11-17"].first_response == 0.0  # SLA-4 answered late
    assert by_day["2026-11-17"].resolution == 0.0  # SLA-4 resolved late
    assert by_day["2026-11-16"].first_response == 100.0  # SLA-3
    # From Friday 20 on, SLA-6's overdue resolution counts as breached each day.
    assert by_day["2026-11-18"].resolution == 100.0
    assert by_day["2026-11-21"].resolution == 0.0
    assert by_day["2026-10-01"].first_response is None


def test_berlin_digest_week_follows_local_midnight_across_the_fall_back(uow):
    """Slot Monday 2026-10-26 09:00 in Berlin (08:00 UTC, the day after summer time ended)."""
    with uow() as s:
        ws = workspace(s, tz="Europe/Berlin")
        # Sunday 25th 23:30 CET is still last week; Monday 26th 00:30 CET is not.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 10, 25, 22, 30),
               events=((RESPONDED, utc(2026, 10, 25, 22, 45)),))
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 10, 25, 23, 30),
               events=((RESPONDED, utc(2026, 10, 25, 23, 40)),))
        # Monday 19th 00:30 CEST (Sunday 18th 22:30 UTC) opens the week.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 10, 18, 22, 30),
               events=((RESPONDED, utc(2026, 10, 18, 22, 35)),))
        facts = load_facts(session=s, workspace_id=ws, start=utc(2026, 8, 1),
                           end=utc(2026, 10, 26, 8), now=utc(2026, 10, 26, 8))
    slot = utc(2026, 10, 26, 8)
    digest = build_digest(facts, slot_start=slot, now=slot, scope="x", tz="Europe/Berlin")
    assert digest.period.label == "Oct 19 to Oct 25"
    assert digest.period.end - digest.period.start == timedelta(hours=169)
    assert digest.opened == 2
    assert (digest.metrics[0].met, digest.metrics[0].breached) == (2, 0)


def test_one_channel_digest_does_not_rank_its_only_channel(uow, fixture_week):
    digest, _ = _digest(uow, fixture_week, channel="C2")
    assert digest.channels_missed == ()
    assert digest.priorities_missed == (MissGroup("P3", 1, 50.0),)
