"""Prometheus metrics for the scheduler: nudges sent/failed/late, outbox backlog, lag.

Each bot instance owns one `SchedulerMetrics` (its own registry, so tests and several
in-process bots never share counters); `/metrics` renders that registry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial

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
        counter = partial(Counter, registry=self.registry)
        histogram = partial(Histogram, buckets=_LATENESS_BUCKETS, registry=self.registry)
        self.nudges_sent = counter("slabot_nudges_sent", "Nudges delivered to Slack", ["metric"])
        self.nudges_failed = counter(
            "slabot_nudges_failed", "Nudges given up after the last attempt", ["metric"])
        self.nudges_late = counter(
            "slabot_nudges_late",
            "Nudges sent late because the bot was offline when they were due", ["metric"])
        self.nudges_cancelled = counter(
            "slabot_nudges_cancelled",
            "Nudges dropped before sending, by reason: resolved, paused, stopped (the metric "
            "stopped or its cycle ended), superseded (a more severe nudge went out)", ["reason"])
        self.nudges_skipped = counter(
            "slabot_nudges_skipped",
            "Less severe nudges skipped because a more severe one was due at the same time")
        self.send_errors = counter(
            "slabot_nudge_send_errors", "Failed Slack calls while sending nudges")
        self.outbox_pending = Gauge(
            "slabot_outbox_pending", "Nudges waiting in the outbox to be sent",
            registry=self.registry)
        self.nudge_lateness = histogram(
            "slabot_nudge_lateness_seconds",
            "Delay between a nudge's planned instant and its delivery")
        self.event_lag = histogram(
            "slabot_event_lag_seconds",
            "Delay between a ticket's due instant and the dispatcher picking it up")
        self.dispatch_cycles = counter(
            "slabot_dispatch_cycles", "Dispatcher runs (wake-ups and safety sweeps)")
        self.tickets_claimed = counter(
            "slabot_tickets_claimed", "Due tickets claimed by this instance's dispatcher")
        self.inbox_refused = counter(
            "slabot_inbox_refused",
            "Slack requests answered 503 because the inbox could not store them")
        self.inbox_applied = counter(
            "slabot_inbox_applied", "Inbox rows applied, by result (done, retry, parked, lost)",
            ["result"])
        self.outbox_deliveries = counter(
            "slabot_outbox_deliveries",
            "Slack writes delivered from the outbox, by kind and result (sent, retry, failed)",
            ["kind", "result"])

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
