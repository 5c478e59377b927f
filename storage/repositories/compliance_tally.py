"""A period's counts per metric and the summary built from them: what the ticket scan and the
rollups both fill, so that both end in the same ``sla.compliance.ComplianceSummary``.

Median and p90 are nearest-rank (``sla.compliance.nearest_rank``) over whole microseconds of
elapsed time, selected with numpy: ``numpy.partition`` puts the wanted ranks in place in
linear time, where a full sort would not be.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from sla.compliance import (
    ComplianceError,
    ComplianceSummary,
    MetricCounts,
    MetricSummary,
    percent,
)
from sla.events import as_utc
from sla.targets import Metric

PERCENTILES = (50, 90)
Micros = npt.NDArray[np.int64]  # elapsed times in whole microseconds
EMPTY: Micros = np.empty(0, dtype=np.int64)
_FIELDS = ("closed_met", "closed_breached", "open", "at_risk", "breached_now", "previous_met",
           "previous_breached")


def checked_period(
    start: datetime, end: datetime, now: datetime, at_risk_fraction: float
) -> tuple[datetime, datetime, datetime]:
    """The period's instants in UTC, refused like ``sla.compliance.summarize`` refuses them."""
    start, end, now = as_utc(start, "start"), as_utc(end, "end"), as_utc(now, "now")
    if end <= start:
        raise ComplianceError(f"period end {end.isoformat()} must be after its start")
    if not 0 < at_risk_fraction <= 1:
        raise ComplianceError(f"at_risk_fraction must be in (0, 1], got {at_risk_fraction!r}")
    return start, end, now


@dataclass
class Tally(MetricCounts):
    """One metric's counts for a period (see ``sla.compliance`` for what each one counts),
    with the previous period's and the percentiles of the metrics that stopped in it."""

    previous_met: int = 0
    previous_breached: int = 0
    percentiles: dict[int, timedelta | None] = field(default_factory=dict)

    @property
    def closed(self) -> int:
        return self.closed_met + self.closed_breached

    def add(self, other: Tally) -> None:
        for name in _FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add_closed(self, stopped: int, breached: int) -> None:
        """Metrics that stopped in the period, and how many of them late."""
        self.closed_breached += int(breached)
        self.closed_met += int(stopped) - int(breached)

    def add_previous(self, stopped: int, breached: int) -> None:
        """Metrics that stopped in the previous period, and how many of them late."""
        self.previous_breached += int(breached)
        self.previous_met += int(stopped) - int(breached)

    def add_open(self, total: int, breached: int, at_risk: int, breached_before: int) -> None:
        """Metrics open at the period's ``t``: how many, late, at risk; and how many of all
        these were open and late at the previous period's end."""
        self.open += int(total)
        self.breached_now += int(breached)
        self.at_risk += int(at_risk)
        self.previous_breached += int(breached_before)

    def has_any(self) -> bool:
        """Anything counted at all, in the period or the one before."""
        return any((self.closed, self.open, self.previous_met, self.previous_breached))

    def summary(self, metric: Metric | None) -> MetricSummary:
        return self.to_summary(
            metric,
            median_elapsed=self.percentiles.get(50),
            p90_elapsed=self.percentiles.get(90),
            previous_met_percent=percent(self.previous_met, self.previous_breached),
        )


def build_summary(
    tallies: Mapping[Metric, Tally], elapsed: Mapping[Metric, Micros], *, start: datetime,
    end: datetime, now: datetime,
) -> ComplianceSummary:
    """The summary of one scope: first response and resolution always listed, next response
    only when something of it counts; overall pools every metric listed."""
    per_metric = {
        metric: tallies.get(metric, Tally()) for metric in Metric
        if metric is not Metric.NEXT_RESPONSE or tallies.get(metric, Tally()).has_any()
    }
    overall = Tally()
    runs = []
    for metric, tally in per_metric.items():
        overall.add(tally)
        values = elapsed.get(metric, EMPTY)
        tally.percentiles = ranks(values)
        runs.append(values)
    overall.percentiles = ranks(np.concatenate(runs) if runs else EMPTY)
    return ComplianceSummary(
        start=start,
        end=end,
        now=now,
        metrics={metric: tally.summary(metric) for metric, tally in per_metric.items()},
        overall=overall.summary(None),
    )


def ranks(values: Micros) -> dict[int, timedelta | None]:
    """Nearest-rank median and p90 of ``values`` (None when there are none); the values are
    partitioned in place (their order is lost, not their contents)."""
    if values.size == 0:
        return dict.fromkeys(PERCENTILES)
    wanted = [max(math.ceil(p / 100 * values.size), 1) - 1 for p in PERCENTILES]
    values.partition(wanted)
    return {p: timedelta(microseconds=int(values[rank]))
            for p, rank in zip(PERCENTILES, wanted, strict=True)}


def concatenate(runs: Iterable[Micros]) -> Micros:
    """One new array of several runs of values."""
    found = [run for run in runs if run.size]
    return np.concatenate(found) if found else EMPTY


def micros_of(found: str | bytes | list[int] | None, count: int | None = None) -> Micros:
    """Elapsed microseconds aggregated by the database, as integers parsed in C (numpy):
    SQLite's ``group_concat`` text (``"12,7,..."``), PostgreSQL's ``array_agg``, or the
    rollups' little-endian int64 bytes."""
    if not found:
        return EMPTY
    if isinstance(found, bytes):
        return np.frombuffer(found, dtype="<i8").astype(np.int64)  # a writable copy
    if isinstance(found, str):
        values = np.fromstring(found, dtype=np.int64, sep=",")
        if count is not None and values.size != count:  # unexpected text: the slow way
            values = np.array([int(part) for part in found.split(",")], dtype=np.int64)
        return values
    return np.array(found, dtype=np.int64)
