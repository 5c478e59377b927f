"""Prometheus metrics for the scheduler: nudges sent/failed/late, outbox backlog, lag.

Each bot instance owns one `SchedulerMetrics` (its own registry, so tests and several
in-process bots never share counters); `/metrics` renders that registry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Lateness of a nudge against its planned instant: sub-second is the goal, hours after downtime.
_LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400)


class SchedulerMetrics:
    """The scheduler's counters and gauges, registered in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.nudges_sent = Counter(
            "slabot_nudges_sent", "Nudges delivered to Slack", ["metric"], registry=r
        )
        self.nudges_failed = Counter(
            "slabot_nudges_failed", "Nudges given up after the last attempt", ["metric"], registry=r
        )
        self.nudges_late = Counter(
            "slabot_nudges_late",
            "Nudges sent late because the bot was offline when they were due",
            ["metric"],
            registry=r,
        )
        self.nudges_cancelled = Counter(
            "slabot_nudges_cancelled",
            "Nudges dropped before sending, by reason: resolved, paused, stopped (the metric "
            "stopped or its cycle ended), superseded (a more severe nudge went out)",
            ["reason"],
            registry=r,
        )
        self.nudges_skipped = Counter(
            "slabot_nudges_skipped",
            "Less severe nudges skipped because a more severe one was due at the same time",
            registry=r,
        )
        self.send_errors = Counter(
            "slabot_nudge_send_errors", "Failed Slack calls while sending nudges", registry=r
        )
        self.outbox_pending = Gauge(
            "slabot_outbox_pending", "Nudges waiting in the outbox to be sent", registry=r
        )
        self.nudge_lateness = Histogram(
            "slabot_nudge_lateness_seconds",
            "Delay between a nudge's planned instant and its delivery",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.event_lag = Histogram(
            "slabot_event_lag_seconds",
            "Delay between a ticket's due instant and the dispatcher picking it up",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.dispatch_cycles = Counter(
            "slabot_dispatch_cycles", "Dispatcher runs (wake-ups and safety sweeps)", registry=r
        )
        self.tickets_claimed = Counter(
            "slabot_tickets_claimed",
            "Due tickets claimed by this instance's dispatcher",
            registry=r,
        )
        self.inbox_refused = Counter(
            "slabot_inbox_refused",
            "Slack requests answered 503 because the inbox could not store them",
            registry=r,
        )
        self.inbox_applied = Counter(
            "slabot_inbox_applied",
            "Inbox rows applied, by result (done, retry, parked, lost)",
            ["result"],
            registry=r,
        )
        self.outbox_deliveries = Counter(
            "slabot_outbox_deliveries",
            "Slack writes delivered from the outbox, by kind and result (sent, retry, failed)",
            ["kind", "result"],
            registry=r,
        )

    def watch_queues(self, stats: Callable[[], dict[str, float]]) -> None:
        """Export the inbox's and outbox's depth and age, read from `stats` at each scrape."""
        self.registry.register(_QueueGauges(stats))

    def render(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, with its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


_QUEUE_GAUGES = {
    "inbox_pending": "Slack events stored and not applied yet",
    "inbox_parked": "Slack events parked after repeated errors (see /healthz)",
    "inbox_oldest_seconds": "Age of the oldest Slack event waiting to be applied",
    "outbox_writes_pending": "Slack writes (cards, notes, answers) waiting to be delivered",
    "outbox_writes_failed": "Slack writes given up",
    "outbox_oldest_seconds": "Age of the oldest Slack write waiting to be delivered",
}


class _QueueGauges(Collector):
    """Gauges read from the database when /metrics is scraped (nothing when it is down)."""

    def __init__(self, stats: Callable[[], dict[str, float]]) -> None:
        self._stats = stats

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # values come from the database at scrape time only

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = self._stats()
        except Exception as exc:
            log.warning("queue gauges unavailable: %s", exc.__class__.__name__)
            return
        for name, doc in _QUEUE_GAUGES.items():
            yield GaugeMetricFamily(f"slabot_{name}", doc, value=values.get(name, 0.0))
