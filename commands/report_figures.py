"""The compliance report's numbers, read from the daily rollups: what `/sla report`, the
report CLI and every portal page show, by the storage functions `/sla status` reads too, so a
page and a verb for the same scope and period cannot disagree (and none scans tickets).

The worst breaches are the one part measured on tickets: a target still running past its
due instant is over by more every minute, so the few that may rank among the worst are timed
afresh from their history, the most overdue first, until no other can rank.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from commands.clocks import ChannelPolicies, clock_of
from commands.reporting import BreachRow, CreditLine, MetricRow, ReportData
from sla.compliance import ComplianceSummary, credit_owed
from sla.events import ClockError
from sla.periods import Period
from sla.policy import Policy
from sla.simulation import CREDIT_METRIC
from sla.targets import Metric
from storage import repositories as repo
from storage.models import Ticket
from storage.repositories.breach_lists import RunningBreach, running_breaches, stopped_breaches
from storage.repositories.compliance import PeriodFigures
from storage.repositories.period_tickets import count_alive_tickets

WORST_BREACHES = 10
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFigures:
    """A report and what it was built from: the period's figures (any grouping of them) and
    the tickets alive in it per channel."""

    data: ReportData
    figures: PeriodFigures
    alive: dict[str, int]


def report_figures(
    session: Session, *, workspace_id: int, channel_id: str | None, period: Period,
    now: datetime, tz: str, scope: str, worst_limit: int = WORST_BREACHES,
    policies: ChannelPolicies | None = None,
) -> ReportFigures:
    """The report of one channel (or the workspace, `channel_id` None) for `period`."""
    # A report shows no trend: the previous period is not read.
    figures = repo.period_figures(session=session, workspace_id=workspace_id,
                                  channel_id=channel_id, start=period.start, end=period.end,
                                  now=now, previous=False)
    alive = count_alive_tickets(session=session, workspace_id=workspace_id, start=period.start,
                                end=period.end, channel_id=channel_id)
    summary = figures.summary()
    ticket_count = sum(alive.values())
    # Anything counted belongs to a ticket alive in the period: none alive, nothing to show.
    totals = tuple(_row(figures, summary, metric, None) for metric in summary.metrics
                   ) if ticket_count else ()
    rows = tuple(
        _row(figures, group, metric, priority)
        for priority, group in figures.by("priority").items()
        for metric, counted in group.metrics.items() if counted.counted
    )
    policy = repo.get_policy(session=session, workspace_id=workspace_id, channel_id=channel_id)
    data = ReportData(
        scope=scope, period=period, tz=tz, ticket_count=ticket_count, totals=totals, rows=rows,
        worst=tuple(worst_breaches(session, workspace_id=workspace_id, channel_id=channel_id,
                                   period=period, now=now, limit=worst_limit,
                                   policies=policies)),
        credit=credit_line(summary, policy), formula=summary.formula,
    )
    return ReportFigures(data, figures, alive)


def credit_line(summary: ComplianceSummary, policy: Policy) -> CreditLine | None:
    """The credit owed by the policy's tiers for the period's resolution met % (None: the
    policy promises no credits)."""
    if not policy.credit_tiers:
        return None
    resolution = summary.metrics.get(CREDIT_METRIC)
    met_percent = resolution.met_percent if resolution else None
    tier = credit_owed(met_percent, policy.credit_tiers)
    return CreditLine(CREDIT_METRIC.value, met_percent,
                      tier.credit_percent if tier else None, tier.below_percent if tier else None)


def _row(figures: PeriodFigures, summary: ComplianceSummary, metric: Metric,
         priority: str | None) -> MetricRow:
    counted = summary.metrics[metric]
    targets = set() if priority is None else figures.targets(priority, metric)
    return MetricRow(
        metric=metric.value,
        priority=priority,
        # Channels may have different policies; a single target is shown only when it is one.
        target=timedelta(seconds=next(iter(targets))) if len(targets) == 1 else None,
        met=counted.met,
        breached=counted.breached,
        met_percent=counted.met_percent,
        median=counted.median_elapsed,
        p90=counted.p90_elapsed,
    )


def worst_breaches(
    session: Session, *, workspace_id: int, channel_id: str | None, period: Period,
    now: datetime, limit: int = WORST_BREACHES, policies: ChannelPolicies | None = None,
) -> list[BreachRow]:
    """The `limit` breaches the period counts that went furthest over their target (as of
    now), ties by ticket key then metric."""
    found = {(b.ticket_id, b.metric): b.over_by for b in stopped_breaches(
        session=session, workspace_id=workspace_id, channel_id=channel_id, start=period.start,
        end=period.end, now=now, limit=limit)}
    running = running_breaches(session=session, workspace_id=workspace_id,
                               channel_id=channel_id, t=min(period.end, now), now=now,
                               over_at_least=_bar(found.values(), limit))
    with contextlib.closing(running):
        found.update(_timed(session, policies or ChannelPolicies(session, workspace_id),
                            running, now, limit, dict(found)))
    bar = _bar(found.values(), limit)
    kept = {key: over for key, over in found.items() if bar is None or over >= bar}
    tickets = _tickets(session, [ticket for ticket, _metric in kept])
    rows = [
        BreachRow(ticket_key=tickets[ticket].key, channel_id=tickets[ticket].channel_id,
                  priority=tickets[ticket].priority, metric=metric.value,
                  over_by=max(over, timedelta(0)), link=tickets[ticket].permalink)
        for (ticket, metric), over in kept.items()
    ]
    rows.sort(key=lambda row: (-row.over_by, row.ticket_key, row.metric))
    return rows[:limit]


def _bar(overs: Iterable[timedelta], limit: int) -> timedelta | None:
    """The time over target a breach must reach to rank: the `limit`-th largest so far."""
    ranked = sorted(overs, reverse=True)
    return ranked[limit - 1] if len(ranked) >= limit else None


def _timed(session: Session, policy: ChannelPolicies, running: Iterator[RunningBreach],
           now: datetime, limit: int, found: dict[tuple[int, Metric], timedelta]
           ) -> dict[tuple[int, Metric], timedelta]:
    """How far over target the running breaches that may rank are now, timed afresh.

    A paused metric is over by what its pause froze. A metric running since its due instant
    is at most the business time since then over (less whatever pause came after): they are
    timed from their history by that bound, the largest first, until the next can no longer
    reach the bar; the ones still unread are never read.
    """
    known = dict(found)
    timed: dict[tuple[int, Metric], timedelta] = {}
    first = next(running, None)
    while first is not None and first.due_at is None:  # the paused ones come first
        timed[first.ticket_id, first.metric] = (
            timedelta(seconds=first.elapsed_s) - timedelta(seconds=first.target_s))
        first = next(running, None)
    known.update(timed)
    due_ordered = running if first is None else itertools.chain((first,), running)
    for breach in _most_overdue_first(due_ordered, policy, now,
                                      lambda: _bar(known.values(), limit)):
        over = _over_now(session, breach, policy(breach.channel_id), now)
        timed[breach.ticket_id, breach.metric] = known[breach.ticket_id, breach.metric] = over
    return timed


def _most_overdue_first(due_ordered: Iterator[RunningBreach], policy: ChannelPolicies,
                        now: datetime, bar: Callable[[], timedelta | None]
                        ) -> Iterator[RunningBreach]:
    """The running breaches (earliest due first, as read) by the most business time since
    their due instant, while that can still reach ``bar()`` (which rises as the caller times
    them). One not read yet has at most the business time since its due instant under the
    most generous of the workspace's calendars, which falls along the stream: one is read
    only while it might outrank the best read so far."""
    calendars = [p.calendar for p in policy.distinct()]

    def next_unread() -> tuple[RunningBreach, timedelta] | None:
        """The next one read, with the most business time any calendar gives since its due
        instant (worked out once per breach read)."""
        unread = next(due_ordered, None)
        if unread is None or unread.due_at is None:
            return None
        return unread, max(calendar.elapsed(unread.due_at, now) for calendar in calendars)

    heap: list[tuple[timedelta, int, RunningBreach]] = []
    order = itertools.count()  # ties by reading order: breaches never compare
    unread = next_unread()
    while True:
        while unread is not None and (not heap or unread[1] > -heap[0][0]):
            bound = _since_due(unread[0], policy(unread[0].channel_id), now)
            heapq.heappush(heap, (-bound, next(order), unread[0]))
            unread = next_unread()
        if not heap:
            return
        reach = bar()
        if reach is not None and -heap[0][0] < reach:
            return
        yield heapq.heappop(heap)[2]


def _since_due(breach: RunningBreach, policy: Policy, now: datetime) -> timedelta:
    assert breach.due_at is not None
    return policy.calendar.elapsed(breach.due_at, now)


def _over_now(session: Session, breach: RunningBreach, policy: Policy, now: datetime
              ) -> timedelta:
    """How far over its target a running metric is now, from its history (what was stored,
    when the history cannot be replayed or the policy stopped measuring the metric)."""
    stored = timedelta(seconds=breach.elapsed_s) - timedelta(seconds=breach.target_s)
    ticket = repo.get_ticket(session=session, ticket_id=breach.ticket_id)
    try:
        clock = clock_of(session, ticket, now, policy=policy).metrics.get(breach.metric)
    except ClockError as exc:
        # One ticket with a broken history must not sink the whole report.
        log.warning("report uses stored SLA results of %s: %s", ticket.key, exc)
        return stored
    return stored if clock is None else clock.elapsed - clock.target


def _tickets(session: Session, ids: Sequence[int]) -> dict[int, Ticket]:
    """The tickets of the breaches listed, by id."""
    found: dict[int, Ticket] = {}
    for ticket in session.exec(select(Ticket).where(col(Ticket.id).in_(sorted(set(ids))))):
        if ticket.id is not None:
            found[ticket.id] = ticket
    return found
