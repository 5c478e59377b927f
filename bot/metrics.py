"""Prometheus metrics for the scheduler: nudges sent/failed/late, outbox backlog, lag.

Each bot instance owns one `SchedulerMetrics` (its own registry, so tests and several
in-process bots never share counters); `/metrics` renders that registry.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

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
            "Nudges dropped before sending because the ticket was resolved or paused",
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

    def render(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, with its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
