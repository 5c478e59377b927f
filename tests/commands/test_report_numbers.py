"""Report numbers (read from the rollups) equal sla.compliance over the same tickets,
recomputed from their events."""

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from commands.report_csv import csv_rows
from commands.report_figures import report_figures
from commands.reporting import counted_breach
from commands.ticket_facts import load_facts
from sla.calendar import BusinessCalendar
from sla.clock import compute_clock
from sla.compliance import outcomes_from_clock, summarize, summarize_by
from sla.events import EventKind
from sla.periods import parse_period
from sla.policy import Policy
from sla.targets import CreditTier, Priority
from storage.models import Ticket
from storage.repositories.ticket_events import load_clock_events
from storage.repositories.workspaces import get_policy, save_policy
from tests.commands.reporting_fixtures import ticket, utc, workspace

NOW = utc(2026, 11, 23, 12)
HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
CHANNELS = ("C1", "C2", "C3")


def business_policy():
    calendar = BusinessCalendar("Europe/Berlin", HOURS)
    return Policy.default(calendar=calendar)


@pytest.fixture
def random_tickets(uow):
    """60 tickets over six weeks: answered or not, paused, resolved, reopened, re-prioritised."""
    rng = random.Random(20261123)
    policy = business_policy()
    with uow() as s:
        ws = workspace(s, policy=policy, tz="Europe/Berlin")
        for n in range(60):
            created = NOW - timedelta(days=rng.uniform(0.2, 42))
            events, at = [], created
            if rng.random() < 0.3:
                at += timedelta(minutes=rng.uniform(1, 300))
                events.append((EventKind.PRIORITY_CHANGED, at, rng.choice(list(Priority))))
            if rng.random() < 0.85:
                at += timedelta(minutes=rng.uniform(1, 600))
                events.append((EventKind.RESPONDED, at, None))
            if rng.random() < 0.2:
                at += timedelta(hours=rng.uniform(0.5, 30))
                events.append((EventKind.PAUSED, at, None))
                at += timedelta(hours=rng.uniform(0.5, 30))
                events.append((EventKind.RESUMED, at, None))
            if rng.random() < 0.7:
                at += timedelta(hours=rng.uniform(0.5, 80))
                events.append((EventKind.RESOLVED, at, None))
                if rng.random() < 0.15:
                    at += timedelta(hours=rng.uniform(1, 20))
                    events.append((EventKind.REOPENED, at, None))
            events = [e for e in events if e[1] < NOW]
            row = ticket(s, ws, channel=CHANNELS[n % 3], priority=rng.choice(list(Priority)),
                         created=created, events=(), policy=policy)
            _apply(s, row, events, policy)
        return ws


def _apply(session, row, events, policy):
    from storage.repositories.ticket_clock import apply_clock
    from storage.repositories.ticket_events import append_event

    last = row.created_at
    for kind, at, priority in events:
        append_event(session=session, ticket=row, kind=kind, at=at, priority=priority)
        last = at
    clock = compute_clock(load_clock_events(session=session, ticket_id=row.id), policy, last)
    apply_clock(session=session, ticket=row, clock=clock)


def _expected_outcomes(session, ws):
    outcomes = []
    for row in session.exec(select(Ticket).order_by(Ticket.id)):
        policy = get_policy(session=session, workspace_id=ws, channel_id=row.channel_id)
        clock = compute_clock(load_clock_events(session=session, ticket_id=row.id), policy, NOW)
        outcomes += outcomes_from_clock(row.key, row.channel_id, Priority(row.priority),
                                        row.assignee_id, clock)
    return outcomes


PERIODS = ("7d", "30d", "2026-11", "2026-10")


def test_report_numbers_equal_sla_compliance(uow, random_tickets):
    for period_text in PERIODS:
        for channel in (None, "C2"):
            _check_report_against_compliance(uow, random_tickets, period_text, channel)


def _report(session, ws, period, channel=None):
    return report_figures(session, workspace_id=ws, channel_id=channel, period=period, now=NOW,
                          tz="Europe/Berlin", scope="x").data


def _check_report_against_compliance(uow, ws, period_text, channel):
    period = parse_period(period_text, tz="Europe/Berlin", now=NOW)
    with uow() as s:
        report = _report(s, ws, period, channel)
        expected = [o for o in _expected_outcomes(s, ws)
                    if channel is None or o.channel == channel]

    summary = summarize(expected, period.start, period.end, NOW)
    assert summary.overall.counted > 0, period_text  # the fixture exercises this period
    assert {row.metric: (row.met, row.breached, row.met_percent, row.median, row.p90)
            for row in report.totals} == {
        m.value: (s.met, s.breached, s.met_percent, s.median_elapsed, s.p90_elapsed)
        for m, s in summary.metrics.items()
    }, (period_text, channel)
    by_priority = summarize_by(expected, "priority", period.start, period.end, NOW)
    assert {(row.priority, row.metric): (row.met, row.breached, row.median, row.p90)
            for row in report.rows} == {
        (str(p), m.value): (s.met, s.breached, s.median_elapsed, s.p90_elapsed)
        for p, group in by_priority.items() for m, s in group.metrics.items() if s.counted
    }, (period_text, channel)
    breached_total = sum(s.breached for s in summary.metrics.values())
    assert len(report.worst) == min(10, breached_total)
    # The worst, running ones timed now included: as over target as their clocks say.
    worst = sorted(((max(o.elapsed - o.target, timedelta(0)), o.ticket_key, o.metric.value)
                    for o in expected if counted_breach(o, period, NOW)),
                   key=lambda w: (-w[0], w[1], w[2]))[:10]
    assert [(row.over_by, row.ticket_key, row.metric) for row in report.worst] == worst
    assert report.formula == summary.formula


def test_credit_owed_follows_the_policy_tiers(uow, random_tickets):
    period = parse_period("2026-11", tz="Europe/Berlin", now=NOW)
    tiers = (CreditTier(99.9, 5.0), CreditTier(99.0, 10.0))
    with uow() as s:
        policy = get_policy(session=s, workspace_id=random_tickets)
        save_policy(session=s, workspace_id=random_tickets,
                    policy=replace(policy, credit_tiers=tiers))
    with uow() as s:
        report = _report(s, random_tickets, period)
    resolution = next(r for r in report.totals if r.metric == "resolution")
    assert resolution.met_percent < 99.0  # random tickets miss plenty
    assert report.credit.met_percent == resolution.met_percent
    assert (report.credit.below_percent, report.credit.credit_percent) == (99.0, 10.0)


def test_csv_has_one_row_per_ticket_alive_in_the_period(uow, random_tickets):
    period = parse_period("30d", tz="Europe/Berlin", now=NOW)
    with uow() as s:
        facts = load_facts(session=s, workspace_id=random_tickets, start=period.start,
                           end=period.end, now=NOW)
        alive = {
            row.key for row in s.exec(select(Ticket))
            if row.created_at < period.end
            and (row.resolved_at is None or row.resolved_at >= period.start)
        }
    rows = csv_rows(facts, period=period)
    assert sorted(r.ticket for r in rows) == sorted(alive)
    assert len({r.ticket for r in rows}) == len(rows)


def test_report_totals_agree_with_the_sql_aggregate_behind_status(uow, random_tickets):
    from storage.repositories.compliance import compliance_counts

    for period_text in PERIODS:
        for channel in (None, "C1"):
            period = parse_period(period_text, tz="Europe/Berlin", now=NOW)
            with uow() as s:
                report = _report(s, random_tickets, period, channel)
                sql = compliance_counts(session=s, workspace_id=random_tickets,
                                        channel_id=channel, start=period.start,
                                        end=period.end, now=NOW)
            # The stock policy measures first response and resolution (no next response).
            assert {r.metric: (r.met, r.breached, r.median, r.p90) for r in report.totals} == {
                m.value: (s.met, s.breached, s.median_elapsed, s.p90_elapsed)
                for m, s in sql.metrics.items()
            }, (period_text, channel)


def test_open_ticket_without_history_falls_back_to_its_stored_results(uow):
    from sqlmodel import delete

    from storage.models import TicketEvent

    with uow() as s:
        ws = workspace(s)
        row = ticket(s, ws, channel="C1", priority="P2", created=NOW - timedelta(hours=3))
        s.exec(delete(TicketEvent).where(TicketEvent.ticket_id == row.id))
    with uow() as s:
        [fact] = load_facts(session=s, workspace_id=ws, start=NOW - timedelta(days=1), end=NOW,
                            now=NOW)
    assert fact.key == "SLA-1"
    assert {o.metric.value for o in fact.outcomes} == {"first_response", "resolution"}
