"""Compliance of a period from the daily rollups: the numbers of the ticket scan
(``storage.repositories.compliance_scan``, itself ``sla.compliance.summarize`` in SQL) at a
cost that does not grow with the tickets of the period.

A period ``[start, end)`` seen at ``now`` needs, per metric: the metrics that stopped in it
and in the previous period (whole UTC days from the rollups, the parts of days at either end
from tickets), the stopped metrics open at ``t = min(end, now)`` (late, at risk) and those
open and late at ``t_before = min(start, now)`` (differences of sums over the days after the
instant, ``storage.repositories.rollups``), and the metrics still running on unresolved
tickets (the partial index). Everything is counted per channel, priority, metric and target,
so a report's rows and a portal's channel ranking come from the same figures as the total.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session

from sla.breach import AT_RISK_FRACTION, AT_RISK_HORIZON
from sla.compliance import ComplianceSummary
from sla.targets import Metric
from storage.repositories import rollup_edges as edges
from storage.repositories import rollup_reads as reads
from storage.repositories.compliance_scan import scan_compliance_counts
from storage.repositories.compliance_tally import (
    Micros,
    Tally,
    build_summary,
    checked_period,
    concatenate,
)
from storage.repositories.rollup_days import after_part, ceil_day, day_parts, whole_days
from storage.repositories.rollup_reads import DayRanges, GroupKey, Parts, ValuesKey
from storage.repositories.rollups import at_risk_by_elapsed

Grouping = Literal["channel", "priority"]


def compliance_counts(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    channel_id: str | None = None,
    at_risk_fraction: float = AT_RISK_FRACTION,
    horizon: timedelta = AT_RISK_HORIZON,
) -> ComplianceSummary:
    """Compliance of a workspace (or one channel) for ``[start, end)`` seen at ``now``, with
    the trend against the previous period of the same length (``sla.compliance``'s numbers).

    The rollups count at-risk metrics at ``AT_RISK_FRACTION``; another fraction is answered
    by the ticket scan.
    """
    if at_risk_fraction != AT_RISK_FRACTION:
        return scan_compliance_counts(
            session=session, workspace_id=workspace_id, start=start, end=end, now=now,
            channel_id=channel_id, at_risk_fraction=at_risk_fraction, horizon=horizon)
    return period_figures(session=session, workspace_id=workspace_id, start=start, end=end,
                          now=now, channel_id=channel_id, horizon=horizon,
                          detailed=False).summary()


@dataclass(frozen=True)
class PeriodFigures:
    """A period's counts per group and elapsed times per (channel, priority, metric) (see
    ``GroupKey``): any grouping of them is a ``ComplianceSummary``. Groups by channel and
    priority need figures asked for ``detailed``."""

    start: datetime
    end: datetime
    now: datetime
    tallies: dict[GroupKey, Tally]
    elapsed: dict[ValuesKey, list[Micros]]

    def summary(self, *, channel: str | None = None, priority: str | None = None
                ) -> ComplianceSummary:
        """The summary of everything, or of one channel and/or one priority."""
        def wanted(group_channel: str | None, group_priority: str | None) -> bool:
            return ((channel is None or group_channel == channel)
                    and (priority is None or group_priority == priority))

        per_metric: dict[Metric, Tally] = defaultdict(Tally)
        for (group_channel, group_priority, metric, _target), tally in self.tallies.items():
            if wanted(group_channel, group_priority):
                per_metric[Metric(metric)].add(tally)
        runs: dict[Metric, list[Micros]] = defaultdict(list)
        for (group_channel, group_priority, metric), found in self.elapsed.items():
            if wanted(group_channel, group_priority):
                runs[Metric(metric)] += found
        return build_summary(per_metric, {m: concatenate(r) for m, r in runs.items()},
                             start=self.start, end=self.end, now=self.now)

    def by(self, key: Grouping) -> dict[str, ComplianceSummary]:
        """One summary per channel or per priority that has any counts, sorted."""
        if key == "channel":
            channels = sorted({channel for channel, _p, _m, _t in self.tallies if channel})
            return {name: self.summary(channel=name) for name in channels}
        priorities = sorted({priority for _c, priority, _m, _t in self.tallies if priority})
        return {name: self.summary(priority=name) for name in priorities}

    def met_breached(self, *, channel: str | None = None) -> tuple[int, int]:
        """Met and breached over every metric (the summary's overall figures, without
        reading a single elapsed time)."""
        met = breached = 0
        for (group_channel, _p, _m, _t), tally in self.tallies.items():
            if channel is None or group_channel == channel:
                met += tally.closed_met
                breached += tally.closed_breached + tally.breached_now
        return met, breached

    def targets(self, priority: str, metric: Metric) -> set[float]:
        """The targets (seconds) of the metrics counted as met or breached in a row."""
        return {target for (_c, group_priority, group_metric, target), tally
                in self.tallies.items()
                if group_priority == priority and group_metric == metric.value
                and target is not None and tally.closed + tally.breached_now}


def period_figures(
    *,
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    channel_id: str | None = None,
    horizon: timedelta = AT_RISK_HORIZON,
    detailed: bool = True,
    previous: bool = True,
) -> PeriodFigures:
    """The figures of a workspace (or one channel) for ``[start, end)`` seen at ``now``;
    per channel, priority and target when ``detailed``, else per metric only. Without
    ``previous`` the previous period is not read (no trend: half the days to sum)."""
    start, end, now = checked_period(start, end, now, AT_RISK_FRACTION)
    question = _Question(start, end, now, horizon, previous)
    scope = _Scope(session, workspace_id, channel_id, detailed)
    parts: dict[GroupKey, Parts] = defaultdict(Counter)
    for key, found in reads.day_sums(session, workspace_id=workspace_id, channel_id=channel_id,
                                     days=question.days(), detailed=detailed).items():
        parts[key].update(found)
    elapsed = _whole_day_values(scope, question.days().current)
    _add_parts_of_days(scope, question, parts, elapsed)
    _add_whole_stories(scope, question, parts)
    running = edges.running_counts(
        session, workspace_id=workspace_id, channel_id=channel_id, t=question.t,
        t_before=question.t_before, now=now, horizon_end=question.t + horizon,
        fraction=AT_RISK_FRACTION, detailed=detailed)
    tallies = {key: _tally(parts.get(key, Counter()), running.get(key), previous)
               for key in set(parts) | set(running)}
    return PeriodFigures(start, end, now, tallies, elapsed)


@dataclass(frozen=True)
class _Scope:
    session: Session
    workspace_id: int
    channel_id: str | None
    detailed: bool



@dataclass(frozen=True)
class _Question:
    start: datetime
    end: datetime
    now: datetime
    horizon: timedelta
    previous: bool

    @property
    def previous_start(self) -> datetime:
        """The previous period's start (its own start: none, when not asked for)."""
        return self.start - (self.end - self.start) if self.previous else self.start

    @property
    def t(self) -> datetime:
        return min(self.end, self.now)

    @property
    def t_before(self) -> datetime:
        return min(self.start, self.now)

    def days(self) -> DayRanges:
        current = whole_days(self.start, self.end)
        # Without the previous period, nothing is summed for it: its days are none.
        previous = whole_days(self.previous_start, self.start) if self.previous else (
            current[0], current[0])
        after_before = ceil_day(self.t_before) if self.previous else date.max
        return DayRanges(current, previous, ceil_day(self.t), after_before)


def _whole_day_values(scope: _Scope, days: tuple[date, date]) -> dict[ValuesKey, list[Micros]]:
    found = reads.elapsed_values(scope.session, workspace_id=scope.workspace_id,
                                 channel_id=scope.channel_id, days=days,
                                 detailed=scope.detailed)
    return defaultdict(list, {key: [values] for key, values in found.items()})


def _add_parts_of_days(scope: _Scope, question: _Question, parts: dict[GroupKey, Parts],
                       elapsed: dict[ValuesKey, list[Micros]]) -> None:
    """What the rollups' whole days miss, read from tickets in one statement: metrics stopped
    in the parts of days at the ends of the period (and of the one before); stops, starts
    and due instants in the rest of the days of ``t`` and ``t_before``, which complete the
    sums over the days after them."""
    asks: list[tuple[str, edges.WindowAsk]] = [
        ("cur", edges.WindowAsk("stopped_at", ("stopped", "breached"), *part, values=True))
        for part in day_parts(question.start, question.end)]
    if question.previous:
        asks += [("prev", edges.WindowAsk("stopped_at", ("stopped", "breached"), *part))
                 for part in day_parts(question.previous_start, question.start)]
    after_t = after_part(question.t)
    if after_t is not None:
        asks += [("t", edges.WindowAsk("stopped_at", ("stopped", "late_until", "risk_until"),
                                       *after_t)),
                 ("t", edges.WindowAsk("started_at", ("started", "risk_from"), *after_t)),
                 ("t", edges.WindowAsk("due_at", ("late_from", "risk_until"), *after_t))]
    after_before = after_part(question.t_before) if question.previous else None
    if after_before is not None:
        asks += [("tb", edges.WindowAsk("stopped_at", ("late_until",), *after_before)),
                 ("tb", edges.WindowAsk("due_at", ("late_from",), *after_before))]
    found = edges.windows(scope.session, workspace_id=scope.workspace_id,
                          channel_id=scope.channel_id, asks=[ask for _p, ask in asks],
                          fraction=AT_RISK_FRACTION, detailed=scope.detailed)
    for (prefix, _ask), window in zip(asks, found, strict=True):
        for key, counts in window.counts.items():
            parts[key].update({f"{prefix}_{name}": value for name, value in counts.items()})
        for values_key, runs in window.elapsed.items():
            elapsed[values_key] += runs


def _add_whole_stories(scope: _Scope, question: _Question, parts: dict[GroupKey, Parts]
                       ) -> None:
    """Stopped metrics looked at whole: due within the horizon after ``t`` (at risk by their
    due instant), and the rare ones stopped after ``t`` inside the period (or after
    ``t_before`` inside the previous one): closed there, so not open at that instant."""
    t, t_before, start, end = question.t, question.t_before, question.start, question.end
    stopped_in = [(t, end)] if t < end else []
    stopped_in += [(t_before, start)] if t_before < start else []
    for found in edges.stopped_metrics(
            scope.session, workspace_id=scope.workspace_id, channel_id=scope.channel_id,
            due_between=(t, t + question.horizon), stopped_in=stopped_in,
            detailed=scope.detailed):
        due, stop, opened = found.due_at, found.stopped_at, found.started_at
        risky = at_risk_by_elapsed(found.elapsed_s, found.target_s)
        late_at_t = due is not None and due < t
        if (due is not None and t <= due <= t + question.horizon and not risky
                and opened < t <= stop and not start <= stop < end):
            parts[found.key].update(due_risk=1)
        if t <= stop < end and opened < t:
            parts[found.key].update(adj_open=1, adj_late=int(late_at_t),
                                    adj_risk=int(risky and not late_at_t))
        if question.previous and t_before <= stop < start and due is not None and (
                due < t_before):
            parts[found.key].update(adj_before=1)


def _tally(parts: Parts, running: tuple[int, int, int, int] | None, previous: bool) -> Tally:
    tally = Tally()
    tally.add_closed(parts["cur_stopped"], parts["cur_breached"])
    tally.add_previous(parts["prev_stopped"], parts["prev_breached"])
    tally.add_open(
        parts["t_stopped"] - parts["t_started"] - parts["adj_open"],
        parts["t_late_until"] - parts["t_late_from"] - parts["adj_late"],
        parts["t_risk_until"] - parts["t_risk_from"] - parts["adj_risk"] + parts["due_risk"],
        parts["tb_late_until"] - parts["tb_late_from"] - parts["adj_before"],
    )
    if running is not None:
        total, breached, at_risk, breached_before = running
        tally.add_open(total, breached, at_risk, breached_before if previous else 0)
    return tally
